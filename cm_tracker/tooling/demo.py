"""A realistic demo clinic: a programme of every kind the presets offer (one with goal activities), two counselors'
caseloads, weeks of history, a voucher catalog and a prize cabinet.

Everything goes through the same use cases as real use, so the demo obeys every rule, and each use case runs under
the clock set to the moment its event happened (tooling.demo_history): ledger entries, draws, hand-overs,
redemptions and audit rows are stamped when they happened, as if the clinic had used cm-tracker all along.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from cm_tracker.engine.presets import PRESETS
from cm_tracker.extensions import db
from cm_tracker.models import LabFormat, Program, User
from cm_tracker.services.core.clinic import clinic_zone
from cm_tracker.services.core.events import rules_for
from cm_tracker.services.usecases import accounts, catalog, lab_results, programs, report_cache
from cm_tracker.timeutil import clock_at
from cm_tracker.tooling.demo_history import (
    Clinic,
    Item,
    PatientPlan,
    Story,
    at,
    cabinet_story,
    patient_story,
    replay,
)
from cm_tracker.tooling.demo_part2 import part2_story


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    note: str


STAFF = (
    DemoLogin("admin", "demo-admin-pass", "admin", "accounts, programmes, audit trail"),
    DemoLogin("maria", "demo-manager-pass", "manager", "programme reports"),
    DemoLogin("carlos", "demo-counselor-pass", "counselor",
              "caseload of the voucher programmes: tests, goal activities, workplace attendance"),
    DemoLogin("dana", "demo-counselor-pass", "counselor", "caseload of the prize-draw and group programmes"),
    DemoLogin("acme-lab", "demo-lab-interface-pass", "lab",
              "lab interface: no pages; POST /api/v1/auth/tokens, then POST /api/v1/lab-results"),
)
DISPLAY_NAMES = {"admin": "Avery Admin", "maria": "Maria Manager", "carlos": "Carlos Counselor",
                 "dana": "Dana Counselor", "acme-lab": "ACME Toxicology"}
# Yesterday afternoon the lab sent two results that cannot be applied, so the review queue has work to show: a
# record number the clinic does not know, and a benzoylecgonine (cocaine) result under LOINC 3393-6, a code outside
# the built-in map: a manager adds it on the LOINC codes page (analyte "cocaine") and applies the result again.
LAB_HELD_CSV = """record_number,accession,collected_at,loinc,result,status
MRN-4417,ACME-88121,{day}T09:10:00,43984-4,negative,final
MRN-4417,ACME-88121,{day}T09:10:00,19554-5,negative,final
MRN-4417,ACME-88121,{day}T09:10:00,19343-3,negative,final
{known},ACME-88122,{day}T10:40:00,3393-6,negative,final
{known},ACME-88122,{day}T10:40:00,19554-5,negative,final
{known},ACME-88122,{day}T10:40:00,19343-3,negative,final
"""
PATIENT_PASSWORD = "demo-patient-pass"

GOALS = {"key": "goals", "kind": "activity", "label": "treatment-plan activities",
         "schedule": {"kind": "fixed", "points": 20}}


@dataclass(frozen=True)
class DemoProgramme:
    """A preset as the clinic adopted it, the counselor whose caseload it is, and its patients (the first gets a
    portal account when `portal` is set). Patients started between `weeks_in` weeks ago."""

    preset: str
    counselor: str
    patients: tuple[str, ...]
    weeks_in: tuple[int, int]
    portal: bool = False
    changes: Mapping[str, Any] = field(default_factory=dict)


def _with_goals() -> dict[str, Any]:
    preset = PRESETS["higgins_vouchers"]
    return {"name": "Escalating vouchers with goal activities",
            "description": f"{preset.description} Each treatment-plan activity of the week's contract (a job "
                           "interview, a medical appointment kept), verified by staff, earns 20 points.",
            "targets": [*preset.program_data()["targets"], GOALS]}


PROGRAMMES = (
    DemoProgramme("california_rip", "carlos", ("Alex Rivera", "Chris Jordan", "Eli Thompson", "Gabe Wilson",
                                               "Isaac Brown", "Kofi Mensah"), (2, 9), portal=True,
                  changes={"visit_plan": [{"from_week": 1, "to_week": 12, "days": ["mon", "thu"]},
                                          {"from_week": 13, "to_week": 24, "days": ["mon"]}]}),
    DemoProgramme("petry_prize_draws", "dana", ("Brianna Lee", "Dee Martinez", "Fatima Khan", "Hana Sato",
                                                "Jade Nguyen", "Lucia Flores"), (2, 9), portal=True),
    DemoProgramme("higgins_vouchers", "carlos", ("Marcus Hill", "Nora Walsh", "Omar Haddad", "Priya Patel"),
                  (2, 6), portal=True, changes=_with_goals()),
    DemoProgramme("fixed_attendance", "dana", ("Quinn Baker", "Rosa Delgado", "Sam O'Neil"), (3, 10)),
    DemoProgramme("silverman_attendance", "carlos", ("Tess Carter", "Uma Reyes", "Victor Chen"), (1, 4)),
)
# Vouchers (name, Spanish name, nominal value in cents, opening stock); each programme prices them in its own points.
VOUCHERS = (("Transit day pass", "Pase de transporte de un día", 500, 60),
            ("Grocery gift card ($10)", "Tarjeta de regalo de supermercado ($10)", 1000, 40),
            ("Phone card ($15)", "Tarjeta telefónica ($15)", 1500, 30))
PRIZES = (("small", "Toiletries kit", "Kit de artículos de aseo", 100, 80),
          ("small", "Snack pack", "Paquete de refrigerios", 100, 80),
          ("large", "Movie tickets for two", "Entradas de cine para dos", 2000, 15),
          ("large", "Grocery gift card ($20)", "Tarjeta de regalo de supermercado ($20)", 2000, 15),
          ("jumbo", "Wireless headphones", "Audífonos inalámbricos", 10000, 3))
# The clinic opened its programmes this many days before its first patient started.
OPENING_DAYS = 7


def load_demo(today: date, seed: int = 2026) -> list[DemoLogin]:
    """Build the demo clinic as of `today`, the clinic's date: history up to yesterday, today's visits still due."""
    if db.session.scalar(select(User.id).limit(1)) is not None:
        raise RuntimeError("The database already has accounts; the demo loads only into an empty database.")
    rng = random.Random(seed)
    starts = [[today - timedelta(days=7 * rng.randint(*p.weeks_in) + rng.randint(0, 4)) for _ in p.patients]
              for p in PROGRAMMES]
    opening = min(min(s) for s in starts) - timedelta(days=OPENING_DAYS)
    with clock_at(datetime.combine(opening, time(9, 0), tzinfo=clinic_zone())):
        clinic, made = _open_clinic(today, opening)
    plans, logins = _patients(clinic, made, starts)
    replay([*(patient_story(clinic, plan, random.Random(f"{seed}:{plan.record_number}")) for plan in plans),
            cabinet_story(clinic, opening), _lab_upload(clinic, plans[0].record_number),
            part2_story(clinic, *[p for p in plans if p.login][:2])], until=today)
    # The history's report caches and stored streaks were written as of each event's day; bring them to today.
    report_cache.rebuild_all()
    return [*STAFF, *logins]


def _lab_upload(clinic: Clinic, known: str) -> Story:
    """The lab's upload of yesterday afternoon, received as the lab interface sends it (lab_results.receive)."""
    yesterday = clinic.today - timedelta(days=1)
    yield at(yesterday, 16, 5)
    body = LAB_HELD_CSV.format(day=yesterday.isoformat(), known=known).encode()
    lab_results.receive(body, LabFormat.CSV, sender=clinic.counselors["acme-lab"], source="api",
                        content_type="text/csv")


def _open_clinic(today: date, opening: date) -> tuple[Clinic, list[Program]]:
    users = {d.username: accounts.create_user(username=d.username, password=d.password, role=d.role,
                                              display_name=DISPLAY_NAMES[d.username]) for d in STAFF}
    made = [_program(p, users["admin"], opening) for p in PROGRAMMES]
    clinic = Clinic(today=today, admin=users["admin"], manager=users["maria"], counselors=users)
    for program in made:
        _stock(clinic, program)
    return clinic, made


def _program(spec: DemoProgramme, admin: User, opening: date) -> Program:
    preset = PRESETS[spec.preset]
    data = preset.program_data() | {
        "preset": preset.name, "description": preset.description, "source": preset.source, "caveat": preset.caveat,
        "funding_source": "County behavioral health", "budget_cents": 2_500_000, "effective_on": opening.isoformat(),
    } | dict(spec.changes)
    return programs.create_program(data, actor=admin, today=opening)


def _stock(clinic: Clinic, program: Program) -> None:
    """A prize cabinet for a programme with a bowl, else a voucher catalog priced in the programme's points."""
    admin, program_id = clinic.admin, program.id
    if rules_for(program).bowl is not None:
        for tier, name, name_es, cents, stock in PRIZES:
            item = catalog.RewardInput(name=name, name_es=name_es, value_cents=cents, tier=tier, program_id=program_id)
            reward = catalog.create_reward(item, opening_stock=stock, actor=admin)
            clinic.prizes.setdefault((program_id, tier), []).append(Item(reward.id))
        return
    for name, name_es, cents, stock in VOUCHERS:
        points = -(-cents // program.point_value_cents)  # rounded up: its points are worth the item at least
        item = catalog.RewardInput(name=name, name_es=name_es, value_cents=cents, cost_points=points,
                                   program_id=program_id)
        reward = catalog.create_reward(item, opening_stock=stock, actor=admin)
        clinic.vouchers.setdefault(program_id, []).append(Item(reward.id, points))


def _patients(clinic: Clinic, made: list[Program], starts: list[list[date]]) -> tuple[list[PatientPlan],
                                                                                  list[DemoLogin]]:
    plans, logins = [], []
    for spec, program, begun in zip(PROGRAMMES, made, starts, strict=True):
        for n, (name, start) in enumerate(zip(spec.patients, begun, strict=True)):
            login = None
            if spec.portal and n == 0:
                login = DemoLogin(f"patient{len(logins) + 1}", PATIENT_PASSWORD, "patient",
                                  f"portal of {name}, {program.name}")
                logins.append(login)
            plans.append(PatientPlan(name=name, record_number=f"MRN-{10400 + len(plans)}", program_id=program.id,
                                     counselor=clinic.counselors[spec.counselor], start_on=start,
                                     login=(login.username, login.password) if login else None))
    return plans, logins
