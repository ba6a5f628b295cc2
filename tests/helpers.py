"""Helpers shared by test modules (import them with `from helpers import ...`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

PASSWORD = "correct horse battery staple"


def coming_monday() -> datetime:
    """11:00 or noon at the clinic (America/Los_Angeles) on the Monday after the real date.

    For tests whose figures depend on the weekday an enrolment would start (a week-mode schedule's maximum follows
    the ISO weeks its visits fall in). It lies ahead of the real clock, so a browser, whose clock is real, still
    keeps the cookies a server pinned to it sets.
    """
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime(monday.year, monday.month, monday.day, 19, 0, tzinfo=UTC)


STIMULANT_SCHEDULE = {"kind": "escalating", "start": 10, "step": 5, "bonus_every": 3, "bonus": 40}


@dataclass
class Personas:
    """Ids of every role, plus a second counselor whose caseload must stay out of reach of the first."""

    admin: int
    manager: int
    counselor: int
    other_counselor: int
    patient_user: int
    patient: int
    other_patient: int
    program: int


def create_personas(app: Flask) -> Personas:
    """Accounts for every role, a voucher programme and two patients, one in each counselor's caseload."""
    from cm_tracker.extensions import db
    from cm_tracker.models import CapWindow, Enrollment, Patient, Program, ProgramTarget, ScheduleVersion, TargetKind
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        make = accounts.create_user
        admin = make(username="ada", password=PASSWORD, role="admin", display_name="Ada Admin")
        manager = make(username="max", password=PASSWORD, role="manager", display_name="Max Manager")
        counselor = make(username="cora", password=PASSWORD, role="counselor", display_name="Cora Counselor")
        other = make(username="otto", password=PASSWORD, role="counselor", display_name="Otto Other")
        program = Program(name="Stimulant vouchers", point_value_cents=25, weeks=12, visit_days=["mon", "wed", "fri"],
                          cap_cents=99750, cap_window=CapWindow.EPISODE)
        target = ProgramTarget(key="stimulants", label="stimulants", kind=TargetKind.ABSTINENCE,
                               analytes=["cocaine", "methamphetamine"])
        target.schedule_versions.append(ScheduleVersion(version=1, effective_on=date(2026, 1, 1),
                                                        schedule=STIMULANT_SCHEDULE))
        program.targets.append(target)
        patient = Patient(display_name="Pat Patient", record_number="MRN-001", counselor_id=counselor.id)
        other_patient = Patient(display_name="Olive Other", record_number="MRN-002", counselor_id=other.id)
        db.session.add_all([program, patient, other_patient])
        db.session.flush()
        for p in (patient, other_patient):
            db.session.add(Enrollment(patient_id=p.id, program_id=program.id, start_on=date(2026, 11, 2),
                                      visit_days=["mon", "wed", "fri"]))
        db.session.commit()
        patient_user = make(username="pat", password=PASSWORD, role="patient", display_name="Pat",
                            patient_id=patient.id)
        return Personas(admin.id, manager.id, counselor.id, other.id, patient_user.id, patient.id,
                        other_patient.id, program.id)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    response = client.post("/sign-in", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def api_token(client: FlaskClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/tokens", json={"username": username, "password": password})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def in_threads(app: Flask, count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work` in `count` threads at once, each with its own app context and session."""
    barrier = threading.Barrier(count)
    outcomes: list[object] = []

    def run(i: int) -> None:
        with app.app_context():
            from cm_tracker.extensions import db

            barrier.wait()
            try:
                outcomes.append(work(i))
            except Exception as exc:  # collected for the test to inspect
                outcomes.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return outcomes


@dataclass(frozen=True)
class Records:
    """Ids of one patient's records of each kind that a URL can name, and a prize of the tier of the draw."""

    specimen: int
    attendance: int
    activity: int
    redemption: int
    draw: int
    prize: int


def seed_records(app: Flask, patient_id: int) -> Records:
    """One record of each kind for `patient_id`, written as rows (the routes under test only load them)."""
    from sqlalchemy import select

    from cm_tracker.engine.outcomes import AttendanceStatus, SpecimenStatus
    from cm_tracker.extensions import db
    from cm_tracker.models import (
        AttendanceRecord,
        Draw,
        Enrollment,
        GoalActivity,
        Redemption,
        RedemptionStatus,
        Reward,
        RewardKind,
        Specimen,
    )

    at = datetime(2026, 11, 4, 17, 0, tzinfo=UTC)
    with app.app_context():
        enrollment = db.session.scalar(select(Enrollment.id).where(Enrollment.patient_id == patient_id))
        voucher = Reward(kind=RewardKind.VOUCHER, name="Bus pass", cost_points=10, value_cents=250)
        prize = Reward(kind=RewardKind.PRIZE, name="Cinema ticket", tier="small", value_cents=100)
        db.session.add_all([voucher, prize])
        db.session.flush()
        rows = [
            Specimen(patient_id=patient_id, enrollment_id=enrollment, collected_at=at, status=SpecimenStatus.PENDING),
            AttendanceRecord(patient_id=patient_id, enrollment_id=enrollment, target_key="stimulants",
                             occurred_at=at, status=AttendanceStatus.ATTENDED),
            GoalActivity(patient_id=patient_id, enrollment_id=enrollment, target_key="stimulants",
                         week_of=date(2026, 11, 2), description="Job search", verification="A letter"),
            Redemption(patient_id=patient_id, enrollment_id=enrollment, reward_id=voucher.id, quantity=1, points=10,
                       status=RedemptionStatus.REQUESTED),
            Draw(patient_id=patient_id, enrollment_id=enrollment, drawn_tier="small", tier="small", value_cents=100),
        ]
        db.session.add_all(rows)
        db.session.commit()
        return Records(*(row.id for row in rows), prize=prize.id)
