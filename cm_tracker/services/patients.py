"""Patients: admitting one into a programme (with the visits it schedules) and describing a patient record."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cm_tracker.extensions import db
from cm_tracker.models import (
    Enrollment,
    EnrollmentStatus,
    Patient,
    Program,
    Role,
    ScheduledVisit,
    TargetKind,
    User,
    VisitKind,
)
from cm_tracker.services import audit
from cm_tracker.services.enrollments import current_enrollment
from cm_tracker.services.errors import Conflict, ValidationFailed

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Start dates outside this range are typing mistakes, and far-future ones would overflow the calendar.
EARLIEST_START = date(2000, 1, 1)
LATEST_START = date(2099, 12, 31)


def create_patient(*, display_name: str, record_number: str, program_id: int, start_on: date,
                   counselor_id: int | None, actor: User, visit_days: list[str] | None = None) -> Patient:
    """Admit a patient: the record, its enrollment in the programme and every visit the programme schedules.

    A counselor's new patient joins their own caseload; admins and managers may name any enabled counselor.
    `visit_days` replaces the programme's default days for this patient (a visit plan's weeks keep their own days).
    """
    display_name, record_number = display_name.strip(), record_number.strip()
    program, counselor_id = _check(display_name, record_number, program_id, start_on, counselor_id, actor)
    days = _chosen_days(visit_days, program)
    if db.session.scalar(select(Patient.id).where(Patient.record_number == record_number)) is not None:
        raise Conflict("A patient with this record number already exists.", code="duplicate")
    patient = Patient(display_name=display_name, record_number=record_number, counselor_id=counselor_id)
    enrollment = Enrollment(patient=patient, program_id=program.id, start_on=start_on,
                            visit_days=days, status=EnrollmentStatus.ACTIVE)
    db.session.add_all([patient, enrollment])
    db.session.flush()
    db.session.add_all(visits_for(enrollment, program))
    audit.record("patient.create", user=actor, patient_id=patient.id, object_type="patient", object_id=patient.id,
                 detail={"program_id": program.id, "enrollment_id": enrollment.id})
    try:
        db.session.commit()
    except IntegrityError:  # the record number was taken between our check and our commit
        db.session.rollback()
        raise Conflict("A patient with this record number already exists.", code="duplicate") from None
    return patient


def _check(display_name: str, record_number: str, program_id: int, start_on: date, counselor_id: int | None,
           actor: User) -> tuple[Program, int | None]:
    fields: dict[str, str] = {}
    if not display_name or len(display_name) > 120:
        fields["display_name"] = "Give a name of 1 to 120 characters."
    if not record_number or len(record_number) > 40:
        fields["record_number"] = "Give a record number of 1 to 40 characters."
    if not EARLIEST_START <= start_on <= LATEST_START:
        fields["start_date"] = f"Must be from {EARLIEST_START} to {LATEST_START}."
    program = db.session.get(Program, program_id)
    if program is None:
        fields["program_id"] = "There is no such program."
    elif program.is_archived:
        fields["program_id"] = "This program is archived; choose an active one."
    counselor_id, problem = _caseload(counselor_id, actor)
    if problem:
        fields["counselor_id"] = problem
    if fields or program is None:
        raise ValidationFailed("The patient could not be created.", fields=fields)
    return program, counselor_id


def _chosen_days(visit_days: list[str] | None, program: Program) -> list[str]:
    if not visit_days:
        return list(program.visit_days)
    return weekday_codes(visit_days, "The patient could not be created.")


def weekday_codes(visit_days: list[str], message: str) -> list[str]:
    """The days in calendar order (each once), or `message` with a field error when a code is not a weekday."""
    if any(day not in WEEKDAYS for day in visit_days):
        raise ValidationFailed(message, fields={"visit_days": "Use mon, tue, wed, thu, fri, sat or sun."})
    return [day for day in WEEKDAYS if day in visit_days]


def _caseload(counselor_id: int | None, actor: User) -> tuple[int | None, str | None]:
    """The counselor whose caseload takes the patient, or why the one named cannot."""
    if actor.role == Role.COUNSELOR:
        if counselor_id not in (None, actor.id):
            return None, "A counselor's new patient joins their own caseload; leave counselor_id out."
        return actor.id, None
    if counselor_id is None:
        return None, None
    counselor = db.session.get(User, counselor_id)
    if counselor is None or counselor.role != Role.COUNSELOR or counselor.is_disabled:
        return None, "Choose an enabled counselor."
    return counselor_id, None


def visit_dates(start_on: date, weeks: int, visit_days: list[str],
                visit_plan: list[dict[str, Any]] | None = None) -> list[date]:
    """Every visit day of the programme's weeks, counted from the start date (week 1 is its first seven days).

    `visit_plan` parts ({"from_week", "to_week", "days"}) replace the default days in their weeks, so that a
    California-like programme (2 visits a week in weeks 1-12, then 1 in 13-24) schedules its 36 tests.
    """
    plan = visit_plan or []
    dates: list[date] = []
    for week in range(1, weeks + 1):
        days = next((p["days"] for p in plan if p["from_week"] <= week <= p["to_week"]), visit_days)
        first = start_on + timedelta(weeks=week - 1)
        dates.extend(d for d in (first + timedelta(days=n) for n in range(7)) if WEEKDAYS[d.weekday()] in days)
    return dates


def visits_for(enrollment: Enrollment, program: Program) -> list[ScheduledVisit]:
    """One test visit a visit day when the programme reinforces abstinence (one specimen serves every abstinence
    target), and one session a visit day for each attendance target."""
    dates = visit_dates(enrollment.start_on, program.weeks, enrollment.visit_days or program.visit_days,
                        program.visit_plan)
    kinds = {t.kind for t in program.targets}
    visits = [ScheduledVisit(enrollment_id=enrollment.id, due_on=d, kind=VisitKind.TEST)
              for d in dates if TargetKind.ABSTINENCE in kinds]
    for target in program.targets:
        if target.kind == TargetKind.ATTENDANCE:
            visits += [ScheduledVisit(enrollment_id=enrollment.id, due_on=d, kind=VisitKind.SESSION,
                                      target_key=target.key) for d in dates]
    return visits


def enrollment_to_dict(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "id": enrollment.id, "program_id": enrollment.program_id, "start_date": enrollment.start_on.isoformat(),
        "end_date": enrollment.end_on.isoformat() if enrollment.end_on else None,
        "status": enrollment.status.value, "visit_days": list(enrollment.visit_days or []),
    }



def patient_to_dict(patient: Patient) -> dict[str, Any]:
    current = current_enrollment(patient)
    return {
        "id": patient.id, "display_name": patient.display_name, "record_number": patient.record_number,
        "counselor_id": patient.counselor_id, "version": patient.version,
        "created_at": patient.created_at.isoformat() if patient.created_at else None,
        "enrollment": enrollment_to_dict(current) if current else None,
        "enrollments": [enrollment_to_dict(e) for e in patient.enrollments],
    }
