"""`flask demo scale`: a realistic history for thousands of patients, built in bulk for load tests and benchmarks.

Recording 360,000 specimens one request at a time would take hours, so the builder generates each patient's
episode in memory (tooling.scale_history, which evaluates awards exactly as core.evaluation does), then
inserts every table with SQLAlchemy Core executemany, a chunk of patients per transaction.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, func, insert, select, text

from cm_tracker.engine.presets import PRESETS
from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    Draw,
    Enrollment,
    EnrollmentSummary,
    EventOutcome,
    LedgerEntry,
    Patient,
    Program,
    Redemption,
    Reward,
    RewardKind,
    Role,
    ScheduledVisit,
    Specimen,
    SpecimenResult,
    StockCount,
    StockMovement,
    StockMovementKind,
    TargetKind,
    TargetState,
    User,
)
from cm_tracker.models.reporting import EnrollmentWeek
from cm_tracker.services.core import audit, chain
from cm_tracker.services.core.clinic import clinic_date, clinic_zone
from cm_tracker.services.core.events import rules_for
from cm_tracker.services.core.visit_calendar import visit_dates
from cm_tracker.services.usecases import accounts, programs
from cm_tracker.tooling.scale_history import Ids, ProgramPlan, Rows, build_patient

# Inserted in this order (foreign keys); the value is the model whose table it is.
TABLES: dict[str, Any] = {
    "patients": Patient, "enrollments": Enrollment, "scheduled_visits": ScheduledVisit, "specimens": Specimen,
    "specimen_results": SpecimenResult, "attendance_records": AttendanceRecord, "redemptions": Redemption,
    "draws": Draw, "ledger_entries": LedgerEntry, "event_outcomes": EventOutcome,
    "enrollment_weeks": EnrollmentWeek, "enrollment_summaries": EnrollmentSummary, "target_states": TargetState,
}
EXPLICIT_IDS = ("patients", "enrollments", "scheduled_visits", "specimens", "attendance_records", "draws",
                "redemptions", "ledger_entries")
# Programme mix: (preset, share of patients, budget per patient in cents).
MIX = (("california_rip", 0.5, 60_000), ("petry_prize_draws", 0.25, 30_000), ("higgins_vouchers", 0.25, 90_000))
PATIENTS_PER_COUNSELOR = 120
FIRST = ("Alex", "Blair", "Casey", "Dana", "Eli", "Fran", "Gale", "Hayden", "Indy", "Jules", "Kai", "Lee", "Morgan",
         "Noor", "Oakley", "Parker", "Quinn", "Rae", "Sage", "Toni", "Uma", "Val", "Wren", "Yael", "Zion")
LAST = ("Alvarez", "Brooks", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Johnson", "Kim",
        "Lopez", "Miller", "Nguyen", "Okafor", "Patel", "Reyes", "Smith", "Taylor", "Usman", "Vega", "Walker")


@dataclass(frozen=True)
class ScaleResult:
    patients: int
    counts: dict[str, int]


def _programs(seed: int, patients: int, today: date, admin: User) -> list[tuple[Program, float]]:
    made = []
    for name, share, per_patient in MIX:
        preset = PRESETS[name]
        data = preset.program_data() | {
            "name": f"{preset.title} (scale {seed})", "description": preset.description,
            "funding_source": "State opioid response grant", "budget_cents": int(per_patient * patients * share),
            "effective_on": (today - timedelta(days=800)).isoformat()}
        made.append((programs.create_program(data, actor=admin, today=today), share))
    return made


def _catalog(program: Program, admin: User, rng: random.Random) -> tuple[int, int] | None:
    """A few stocked items per programme, counted now and then (the fidelity page reports the counts)."""
    prize = program.targets[0].schedule_versions[-1].schedule.get("kind") == "prize_draws"
    items = ([Reward(program_id=program.id, kind=RewardKind.PRIZE, tier=t, name=n, value_cents=v)
              for t, n, v in (("small", "Snack pack", 100), ("large", "Grocery card ($20)", 2000),
                              ("jumbo", "Headphones", 10000))] if prize else
             [Reward(program_id=program.id, kind=RewardKind.VOUCHER, name=n, cost_points=c, value_cents=v)
              for n, c, v in (("Grocery gift card ($10)", 40, 1000), ("Transit pass", 20, 500))])
    db.session.add_all(items)
    db.session.flush()
    for item in items:
        db.session.add(StockMovement(reward_id=item.id, kind=StockMovementKind.RESTOCK, quantity=500,
                                     note="Opening stock", created_by_id=admin.id))
        if rng.random() < 0.7:
            counted = 500 - (rng.randrange(3) if rng.random() < 0.3 else 0)
            db.session.add(StockCount(reward_id=item.id, expected=500, counted=counted, counted_by_id=admin.id))
    return None if prize else (items[0].id, int(items[0].cost_points or 0))


def _plan(program: Program, voucher: tuple[int, int] | None, manager_id: int) -> ProgramPlan:
    rules = rules_for(program)
    analytes = sorted({a for t in rules.targets for a in t.analytes})
    bowl_sets = [sorted(getattr(t.schedule, "bonus_analytes", ()) or ()) for t in rules.targets]
    panel = tuple(analytes + [a for s in bowl_sets for a in s if a not in analytes])
    session = next((t.key for t in program.targets if t.kind == TargetKind.ATTENDANCE), None)
    weeks, days, plan = program.weeks, list(program.visit_days), program.visit_plan
    return ProgramPlan(program.id, rules, weeks, lambda start: visit_dates(start, weeks, days, plan), panel,
                       session, voucher, manager_id)


def _next_ids() -> Ids:
    def after(model: Any) -> int:
        return int(db.session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1

    return Ids(after(Patient), after(Enrollment), after(ScheduledVisit), after(Specimen), after(AttendanceRecord),
               after(Draw), after(Redemption), after(LedgerEntry))


def _insert(rows: Rows) -> None:
    for name, model in TABLES.items():
        found = rows.tables.get(name)
        if found:
            if name == chain.LEDGER:  # every enrolment is new: its lane's head made with the others', at once
                chain.seal(db.session.connection(), name, found, new_lanes=True)
            _executemany(model.__table__, found)


def _executemany(table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows through the driver's executemany, each value passed through its column's own bind processing.

    SQLAlchemy's per-row parameter handling costs more than the database itself at this volume (hundreds of
    thousands of rows), so the statement is compiled once and each column's processor applied here. A table whose
    statement would need a value the rows do not carry (a column default) goes through SQLAlchemy as usual.
    """
    connection = db.session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    names = list(compiled.positiontup or ()) if dialect.paramstyle in ("qmark", "numeric", "format") else \
        list(compiled.binds)
    if set(names) != set(keys):
        db.session.execute(insert(table), rows)
        return
    processors = {key: table.c[key].type.bind_processor(dialect) for key in keys}
    # Only the columns with a processor (times, enums) are touched value by value; the rest are taken at once.
    converting = [(at, key, processors[key]) for at, key in enumerate(names) if processors[key] is not None]
    params: list[Any]
    if compiled.positional:
        take = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
        params = [take(row) for row in rows]
        if converting:
            for n, values in enumerate(params):
                values = list(values)
                for at, _key, process in converting:
                    values[at] = process(values[at])
                params[n] = tuple(values)  # SQLAlchemy passes on tuples or dicts only
    else:
        params = [{key: row[key] for key in names} for row in rows]
        for values in params:
            for _at, key, process in converting:
                values[key] = process(values[key])
    if dialect.name == "sqlite" and compiled.positional and table.name in _TRIGGERED:
        _insert_staged(connection, table, names, params)
    else:
        connection.exec_driver_sql(str(compiled), params)


# Tables whose every INSERT fires a trigger (the chain's head moves with each ledger row: core.chain).
_TRIGGERED = frozenset({chain.LEDGER})


def _insert_staged(connection: Any, table: Table, names: list[str], params: list[Any]) -> None:
    """SQLite: the rows written to a temporary table of the same columns first, then moved by one INSERT ... SELECT.

    Each execution of a statement that fires a trigger opens a statement journal and runs the trigger's program
    anew: row by row (the driver's executemany) a ledger row cost about 60 microseconds to insert, against 15 as one
    statement for them all, most of the build of ten thousand patients. The temporary table has no trigger, index or
    constraint, and the INSERT ... SELECT takes its rows in the order they were written, so the chain's trigger sees
    each lane's rows in their order, as it would row by row."""
    columns = ", ".join(f'"{name}"' for name in names)
    staged = f"staged_{table.name}"
    connection.exec_driver_sql(f'CREATE TEMP TABLE "{staged}" AS SELECT {columns} FROM main."{table.name}" WHERE 0')
    try:
        marks = ", ".join("?" for _ in names)
        connection.exec_driver_sql(f'INSERT INTO temp."{staged}" ({columns}) VALUES ({marks})', params)
        connection.exec_driver_sql(f'INSERT INTO main."{table.name}" ({columns}) '
                                   f'SELECT {columns} FROM temp."{staged}" ORDER BY rowid')
    finally:
        connection.exec_driver_sql(f'DROP TABLE temp."{staged}"')


def _advance_sequences() -> None:
    """Explicit ids do not move PostgreSQL's sequences; move them past the largest id."""
    if db.engine.dialect.name != "postgresql":
        return
    for name in EXPLICIT_IDS:
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"))


def _staff(patients: int, seed: int) -> tuple[User, User, list[int]]:
    password = f"scale-{seed}-not-for-sign-in-{random.Random(seed).getrandbits(64):x}"
    make = accounts.create_user
    admin = make(username=f"scale{seed}admin", password=password, role=Role.ADMIN, display_name="Scale Admin")
    manager = make(username=f"scale{seed}manager", password=password, role=Role.MANAGER,
                   display_name="Scale Manager")
    # Dozens of counselors share the admin's password hash (hashing is deliberately slow: a second each would
    # be most of a build); they are audited as accounts.create_user audits one, and nobody signs in as them.
    counselors = [User(username=f"scale{seed}c{i}", display_name=f"Counselor {i + 1:02d}", role=Role.COUNSELOR,
                       password_hash=admin.password_hash)
                  for i in range(max(1, -(-patients // PATIENTS_PER_COUNSELOR)))]
    db.session.add_all(counselors)
    db.session.flush()
    for user in counselors:
        audit.record("user.create", user=None, object_type="user", object_id=user.id,
                     detail={"username": user.username, "role": str(Role.COUNSELOR)})
    db.session.commit()
    return admin, manager, [user.id for user in counselors]


def build_scale(patients: int, *, seed: int, today: date, chunk: int = 400,
                progress: Callable[[int], None] = lambda n: None) -> ScaleResult:
    """Add `patients` patients with up to 24 weeks of history each, across three programmes."""
    if db.session.scalar(select(User.id).where(User.username == f"scale{seed}admin")) is not None:
        raise RuntimeError(f"A scale history with seed {seed} is already loaded; use another --seed.")
    rng = random.Random(seed)
    admin, manager, counselors = _staff(patients, seed)
    plans = []
    for program, share in _programs(seed, patients, today, admin):
        plans.append((_plan(program, _catalog(program, admin, rng), manager.id), share))
    db.session.commit()
    ids, zone = _next_ids(), clinic_zone()
    counts: dict[str, int] = {}
    weights = [share for _, share in plans]
    rows, done = Rows(), 0
    for n in range(patients):
        plan = rng.choices([p for p, _ in plans], weights)[0]
        start = today - timedelta(days=rng.randrange(7 * 4, 7 * (plan.weeks + 36)))
        build_patient(plan, ids, rows, rng, name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                      record=f"S{seed}-{n + 1:06d}", counselor_id=rng.choice(counselors), start=start, today=today,
                      zone=zone, day_of=clinic_date)
        if (n + 1) % chunk == 0 or n + 1 == patients:
            _insert(rows)
            db.session.commit()
            for name, found in rows.tables.items():
                counts[name] = counts.get(name, 0) + len(found)
            progress(n + 1 - done)
            done, rows = n + 1, Rows()
    _advance_sequences()
    audit.record("demo.scale", user=admin, object_type="scale", object_id=seed,
                 detail={"patients": patients})
    db.session.commit()
    return ScaleResult(patients, counts)
