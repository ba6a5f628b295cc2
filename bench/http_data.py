"""The clinic bench/web.py measures: one counselor with 150 patients, each well into a 12-week episode.

Built in-process with cm-tracker's own code, so every stored fact (ledger, report cache rows, enrolment summaries)
is what the app itself would have written: accounts and the programme through the use cases, the patients' histories
through the bulk builder of `flask demo scale` (cm_tracker.tooling), which evaluates awards exactly as
core.evaluation does. Recording 5,000 specimens one request at a time would take longer than the whole benchmark.

Also here: counting the SQL statements one request runs, in-process with the Flask test client.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, text

from config import Config

PASSWORD = "bench http pass phrase"
COUNSELOR = "benchcounselor"
PATIENT = "benchpatient"
CASELOAD = 150
PRESET = "higgins_vouchers"  # 12 weeks, three visits a week: about 36 specimens per episode
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Clinic:
    """What the load generator needs to know of the clinic it drives."""

    counselor: str
    patient: str
    password: str
    patient_ids: tuple[int, ...]  # the whole caseload
    active_ids: tuple[int, ...]  # enrolled today: a result may be recorded for them now
    analytes: tuple[str, ...]  # the programme's panel, a result for each makes a final specimen
    specimens: int  # stored before the run


def make_app(url: str) -> Any:
    """cm-tracker in-process on `url`: the configuration production reads, rate limits off."""
    from cm_tracker import create_app

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        RATELIMIT_ENABLED = False

    return create_app(BenchConfig)


def build_clinic(app: Any, seed: int = 2026) -> Clinic:
    """Migrate an empty database and fill it (docstring above)."""
    from flask_migrate import upgrade

    from cm_tracker.engine.presets import PRESETS
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, EnrollmentStatus, Patient, Specimen
    from cm_tracker.services.core.clinic import clinic_date, clinic_today, clinic_zone
    from cm_tracker.services.usecases import accounts, programs
    from cm_tracker.tooling import scale
    from cm_tracker.tooling.scale_history import Rows, build_patient

    with app.app_context():
        logging.disable(logging.INFO)  # alembic's line per migration says nothing the bench needs
        try:
            upgrade()
        finally:
            logging.disable(logging.NOTSET)
        rng, today = random.Random(seed), clinic_today()
        make = accounts.create_user
        admin = make(username="benchadmin", password=PASSWORD, role="admin", display_name="Bench Admin")
        manager = make(username="benchmanager", password=PASSWORD, role="manager", display_name="Bench Manager")
        counselor = make(username=COUNSELOR, password=PASSWORD, role="counselor", display_name="Bench Counselor")
        preset = PRESETS[PRESET]
        program = programs.create_program(preset.program_data() | {
            "name": "Bench vouchers", "description": preset.description, "funding_source": "Bench grant",
            "budget_cents": 90_000 * CASELOAD, "effective_on": (today - timedelta(days=365)).isoformat()},
            actor=admin, today=today)
        plan = scale._plan(program, scale._catalog(program, admin, rng), manager.id)
        db.session.commit()
        ids, rows = scale._next_ids(), Rows()
        for n in range(CASELOAD):
            # 71 to 83 days ago: every episode is in its 11th or 12th week, so still open today.
            start = today - timedelta(days=rng.randrange(71, 84))
            build_patient(plan, ids, rows, rng, name=f"{rng.choice(scale.FIRST)} {rng.choice(scale.LAST)}",
                          record=f"BENCH-{n + 1:04d}", counselor_id=counselor.id, start=start, today=today,
                          zone=clinic_zone(), day_of=clinic_date)
        scale._insert(rows)
        db.session.commit()
        scale._advance_sequences()
        db.session.commit()
        patient_ids = tuple(db.session.scalars(select(Patient.id).where(Patient.counselor_id == counselor.id)
                                               .order_by(Patient.id)))
        active = tuple(db.session.scalars(select(Enrollment.patient_id).where(
            Enrollment.status == EnrollmentStatus.ACTIVE, Enrollment.patient_id.in_(patient_ids))
            .order_by(Enrollment.patient_id)))
        make(username=PATIENT, password=PASSWORD, role="patient", display_name="Bench Patient",
             patient_id=active[0], actor=admin)
        if db.engine.dialect.name == "postgresql":
            # A clinic's tables are vacuumed by autovacuum soon after rows arrive; the bench's, filled a moment ago,
            # would be vacuumed by it at some point of the run (a minute or so in), so each figure would depend on
            # whether it had run yet. Vacuumed now (the visibility map lets index-only scans skip the heap), every
            # figure sees the state a running clinic's tables are in.
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        stored = db.session.scalar(select(db.func.count()).select_from(Specimen)) or 0
        db.session.remove()
        db.engine.dispose()
    return Clinic(COUNSELOR, PATIENT, PASSWORD, patient_ids, active, plan.analytes, int(stored))


@contextmanager
def counting(app: Any) -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs (pragmas and pool pings are not statements)."""
    from cm_tracker.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def statements_per_request(app: Any, clinic: Clinic, specimen_body: Callable[[int], dict[str, Any]]) \
        -> dict[str, int]:
    """Statements of one balance read, one desk entry, one caseload page and one portal home, each counted on its
    second run (the first warms what a long-running worker has warm)."""
    client = app.test_client()
    answer = client.post("/api/v1/auth/tokens", json={"username": clinic.counselor, "password": clinic.password})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    bearer = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    patient_id = clinic.patient_ids[-1]
    desk_id = clinic.active_ids[-1]
    calls: dict[str, Callable[[Any, int], Any]] = {
        "balance": lambda c, n: c.get(f"/api/v1/patients/{patient_id}/balance", headers=bearer),
        "desk": lambda c, n: c.post(f"/api/v1/patients/{desk_id}/specimens", headers=bearer,
                                    json=specimen_body(n)),
    }
    staff, portal = app.test_client(), app.test_client()
    sign_in(staff, clinic.counselor, clinic.password)
    sign_in(portal, clinic.patient, clinic.password)
    calls["caseload"] = lambda c, n: staff.get("/staff/")
    calls["portal"] = lambda c, n: portal.get("/portal/")
    counts: dict[str, int] = {}
    for name, call in calls.items():
        first = call(client, 0)
        assert first.status_code in (200, 201), (name, first.status_code, first.get_data(as_text=True)[:300])
        with counting(app) as seen:
            response = call(client, 1)
        assert response.status_code in (200, 201), (name, response.status_code, response.get_data(as_text=True)[:300])
        counts[name] = len(seen)
    return counts


def sign_in(client: Any, username: str, password: str) -> None:
    """Through the real sign-in form, CSRF token included."""
    page = client.get("/sign-in").get_data(as_text=True)
    found = CSRF.search(page)
    assert found, "no CSRF token on the sign-in page"
    answer = client.post("/sign-in", data={"username": username, "password": password, "csrf_token": found[1]})
    assert answer.status_code == 302, answer.status_code
