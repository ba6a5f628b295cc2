"""A realistic demo clinic: two programmes, staff, about twenty patients with weeks of history, a catalog and a
prize cabinet. Everything goes through the same services as real use, so the demo obeys every rule."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from cm_tracker.engine.presets import PRESETS
from cm_tracker.extensions import db
from cm_tracker.models import (
    AnalyteResult,
    AttendanceStatus,
    Enrollment,
    Patient,
    Reward,
    RewardKind,
    ScheduledVisit,
    SpecimenStatus,
    StockMovement,
    StockMovementKind,
    User,
    Validity,
    VisitKind,
)
from cm_tracker.models import TestMethod as Method
from cm_tracker.services.core import balances
from cm_tracker.services.core.clinic import clinic_zone
from cm_tracker.services.usecases import accounts, admission, attendance, draws, programs, specimens

PANEL = ("amphetamine", "cocaine", "methamphetamine", "opiates", "alcohol")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    note: str


STAFF = (
    DemoLogin("admin", "demo-admin-pass", "admin", "accounts, programmes, audit trail"),
    DemoLogin("maria", "demo-manager-pass", "manager", "programme reports"),
    DemoLogin("carlos", "demo-counselor-pass", "counselor", "caseload of the voucher programme"),
    DemoLogin("dana", "demo-counselor-pass", "counselor", "caseload of the prize-draw programme"),
)
NAMES = (
    "Alex Rivera", "Brianna Lee", "Chris Jordan", "Dee Martinez", "Eli Thompson", "Fatima Khan", "Gabe Wilson",
    "Hana Sato", "Isaac Brown", "Jade Nguyen", "Kofi Mensah", "Lucia Flores", "Marcus Hill", "Nora Walsh",
    "Omar Haddad", "Priya Patel", "Quinn Baker", "Rosa Delgado", "Sam O'Neil", "Tess Carter",
)


def load_demo(today: date, seed: int = 2026) -> list[DemoLogin]:
    """Build the demo clinic as of `today` (history up to yesterday; today's visits are still due)."""
    if db.session.scalar(select(User.id).limit(1)) is not None:
        raise RuntimeError("The database already has accounts; the demo loads only into an empty database.")
    rng = random.Random(seed)
    users = {d.username: accounts.create_user(username=d.username, password=d.password, role=d.role,
                                              display_name=_display(d.username)) for d in STAFF}
    admin = users["admin"]
    vouchers = _program("california_rip", admin, today, [{"from_week": 1, "to_week": 12, "days": ["mon", "thu"]},
                                                         {"from_week": 13, "to_week": 24, "days": ["mon"]}])
    prizes = _program("petry_prize_draws", admin, today, None)
    _stock_rewards(vouchers.id, prizes.id, admin)
    logins = list(STAFF)
    for i, name in enumerate(NAMES):
        program, counselor = (vouchers, users["carlos"]) if i % 2 == 0 else (prizes, users["dana"])
        start = today - timedelta(days=7 * rng.randint(2, 9) + rng.randint(0, 4))
        patient = admission.admit_patient(display_name=name, record_number=f"MRN-{10400 + i}", program_id=program.id,
                                          start_on=start, counselor_id=counselor.id, actor=admin)
        _history(patient, counselor, today, rng, reliability=rng.choice((0.9, 0.8, 0.65, 0.45)))
        if i < 2:
            login = DemoLogin(f"patient{i + 1}", "demo-patient-pass", "patient", f"portal of {name}")
            accounts.create_user(username=login.username, password=login.password, role="patient",
                                 display_name=name.split()[0], patient_id=patient.id, actor=admin)
            logins.append(login)
    return logins


def _display(username: str) -> str:
    return {"admin": "Avery Admin", "maria": "Maria Manager", "carlos": "Carlos Counselor",
            "dana": "Dana Counselor"}[username]


def _program(preset_name: str, admin: User, today: date, plan: list[dict[str, object]] | None):
    preset = PRESETS[preset_name]
    data = preset.program_data() | {"description": preset.description, "funding_source": "County behavioral health",
                                    "budget_cents": 2_500_000}
    if plan:
        data["visit_plan"] = plan
    data["effective_on"] = (today - timedelta(days=365)).isoformat()
    return programs.create_program(data, actor=admin, today=today)


def _stock_rewards(voucher_program_id: int, prize_program_id: int, admin: User) -> None:
    items = [
        Reward(program_id=voucher_program_id, kind=RewardKind.VOUCHER, name="Grocery gift card ($10)",
               cost_points=40, value_cents=1000),
        Reward(program_id=voucher_program_id, kind=RewardKind.VOUCHER, name="Transit day pass", cost_points=20,
               value_cents=500),
        Reward(program_id=voucher_program_id, kind=RewardKind.VOUCHER, name="Phone card ($15)", cost_points=60,
               value_cents=1500),
        Reward(program_id=prize_program_id, kind=RewardKind.PRIZE, tier="small", name="Toiletries kit",
               value_cents=100),
        Reward(program_id=prize_program_id, kind=RewardKind.PRIZE, tier="small", name="Snack pack", value_cents=100),
        Reward(program_id=prize_program_id, kind=RewardKind.PRIZE, tier="large", name="Movie tickets for two",
               value_cents=2000),
        Reward(program_id=prize_program_id, kind=RewardKind.PRIZE, tier="large", name="Grocery gift card ($20)",
               value_cents=2000),
        Reward(program_id=prize_program_id, kind=RewardKind.PRIZE, tier="jumbo", name="Wireless headphones",
               value_cents=10000),
    ]
    db.session.add_all(items)
    db.session.flush()
    for item, quantity in zip(items, (25, 30, 15, 40, 40, 8, 6, 2), strict=True):
        db.session.add(StockMovement(reward_id=item.id, kind=StockMovementKind.RESTOCK, quantity=quantity,
                                     note="Opening stock", created_by_id=admin.id))
    db.session.commit()


def _history(patient: Patient, counselor: User, today: date, rng: random.Random, reliability: float) -> None:
    """Results for every visit before today: a patient with higher reliability has longer runs of negatives."""
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == patient.id))
    visits = db.session.scalars(select(ScheduledVisit).where(ScheduledVisit.enrollment_id == enrollment.id,
                                                             ScheduledVisit.due_on < today,
                                                             ScheduledVisit.kind == VisitKind.TEST)
                                .order_by(ScheduledVisit.due_on)).all()
    has_sessions = any(t.key == "counseling" for t in enrollment.program.targets)
    for visit in visits:
        moment = datetime.combine(visit.due_on, time(9, rng.randint(0, 59)), tzinfo=clinic_zone())
        specimens.record_specimen(patient, _specimen(moment, rng, reliability), actor=counselor)
        if has_sessions:
            status = AttendanceStatus.ATTENDED if rng.random() < reliability + 0.05 else AttendanceStatus.UNEXCUSED
            attendance.record_attendance(patient, occurred_at=moment + timedelta(hours=1), target_key="counseling",
                                         status=status, actor=counselor)
        # Draws happen at the desk right after the result, as the protocol asks; now and then a patient leaves
        # before drawing and the draws wait for the next visit.
        waiting = min(balances.balance_of(patient.id).draws, draws.MAX_DRAWS_AT_ONCE)
        if waiting > 0 and rng.random() < 0.85:
            draws.perform_draws(patient, waiting, actor=counselor, rng=rng)


def _specimen(moment: datetime, rng: random.Random, reliability: float) -> specimens.SpecimenInput:
    roll = rng.random()
    if roll > 0.97:
        return specimens.SpecimenInput(collected_at=moment, status=SpecimenStatus.EXCUSED, note="Excused: court date")
    if roll > reliability + 0.08:
        return specimens.SpecimenInput(collected_at=moment, status=SpecimenStatus.MISSED)
    positive = roll > reliability
    results = {a: AnalyteResult.NEGATIVE for a in PANEL}
    if positive:
        results[rng.choice(("cocaine", "methamphetamine"))] = AnalyteResult.POSITIVE
    if rng.random() < 0.1:
        results["alcohol"] = AnalyteResult.POSITIVE
    return specimens.SpecimenInput(collected_at=moment, status=SpecimenStatus.FINAL, results=results,
                                   validity=Validity.VALID, temperature_ok=True, observed=rng.random() < 0.3,
                                   method=Method.POC)
