"""Desk fixtures: the desk world (fixture `desk`) and what the desk tests build with: a programme (`make_program`),
an enrolment through the service (`enrol`), moments on the clinic's clock, negatives, visits and audit actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from flask import Flask

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass
class Desk:
    program: int
    patient: int
    enrollment: int
    today: date
    start: date


def moment(day: date, hour: int = 0, minute: int = 5) -> datetime:
    """A time on the clinic's clock, as aware UTC."""
    from cm_tracker.services.core.clinic import clinic_zone
    from cm_tracker.timeutil import as_utc

    return as_utc(datetime.combine(day, time(hour, minute), tzinfo=clinic_zone()))


def make_program(name: str = "Desk vouchers", cap_cents: int = 1_000_000) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import CapWindow, Program, ProgramTarget, ScheduleVersion, TargetKind

    program = Program(name=name, point_value_cents=25, weeks=4, visit_days=["mon", "wed", "fri"],
                      cap_cents=cap_cents, cap_window=CapWindow.EPISODE)
    targets = [("stimulants", TargetKind.ABSTINENCE, ["cocaine", "methamphetamine"],
                {"kind": "escalating", "start": 10, "step": 5, "bonus_every": 3, "bonus": 40}),
               ("groups", TargetKind.ATTENDANCE, [], {"kind": "fixed", "points": 5}),
               ("goals", TargetKind.ACTIVITY, [], {"kind": "fixed", "points": 20})]
    for i, (key, kind, analytes, schedule) in enumerate(targets):
        target = ProgramTarget(key=key, label=key, kind=kind, analytes=analytes, position=i)
        target.schedule_versions.append(ScheduleVersion(version=1, effective_on=date(2026, 1, 1), schedule=schedule))
        program.targets.append(target)
    db.session.add(program)
    db.session.commit()
    return program.id


def enrol(app: Flask, program_id: int, counselor_id: int, *, name: str, record: str, start: date) -> tuple[int, int]:
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.usecases import admission as enrolment

    with app.app_context():
        done = enrolment.enrol(display_name=name, record_number=record, program_id=program_id, start_on=start,
                               counselor_id=None, visit_days=ALL_DAYS, portal_username=None,
                               actor=db.session.get(User, counselor_id))
        return done.patient.id, done.patient.enrollments[0].id


@pytest.fixture
def desk(app: Flask, personas) -> Desk:
    """The desk world, on top of the personas: the "Desk vouchers" programme (stimulant tests escalating 10 + 5,
    group sessions at 5 points, goal activities at 20; a $10,000 cap) and Dana Desk (MRN-D1) enrolled through the
    enrolment service by Cora a week ago, with a test and a session due every day, so that yesterday and today both
    have visits whatever the date."""
    from cm_tracker.services.core.clinic import clinic_today

    with app.app_context():
        today = clinic_today()
        program = make_program()
    start = today - timedelta(days=7)
    patient, enrollment = enrol(app, program, personas.counselor, name="Dana Desk", record="MRN-D1", start=start)
    return Desk(program, patient, enrollment, today, start)


def visit_on(enrollment_id: int, day: date, kind: str = "test") -> int:
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import ScheduledVisit

    return db.session.scalar(select(ScheduledVisit.id).where(
        ScheduledVisit.enrollment_id == enrollment_id, ScheduledVisit.due_on == day, ScheduledVisit.kind == kind))


def negative(day: date, hour: int = 0, **extra: object):
    from cm_tracker.models import AnalyteResult, SpecimenStatus, Validity
    from cm_tracker.services.usecases.specimens import SpecimenInput

    return SpecimenInput(collected_at=moment(day, hour), status=SpecimenStatus.FINAL, validity=Validity.VALID,
                         results={"cocaine": AnalyteResult.NEGATIVE, "methamphetamine": AnalyteResult.NEGATIVE},
                         temperature_ok=True, **extra)


def user(user_id: int):
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    return db.session.get(User, user_id)


def patient(patient_id: int):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient

    return db.session.get(Patient, patient_id)


def audit_actions(patient_id: int | None = None) -> list[str]:
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    return list(db.session.scalars(query))
