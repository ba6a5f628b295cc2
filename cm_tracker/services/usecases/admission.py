"""Admission: a patient's episode in a programme begins (the record, its enrollment and every visit the programme
schedules, optionally a portal account) and ends (completed or discharged).

Editing the patient record afterwards is in usecases.patients; changing the visit days in usecases.visit_schedule.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    Enrollment,
    EnrollmentStatus,
    GoalActivity,
    Patient,
    Program,
    Role,
    Specimen,
    User,
)
from cm_tracker.services.core import audit
from cm_tracker.services.core.clinic import clinic_today, start_of_day
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.ledger import lock_enrollment
from cm_tracker.services.core.plausible_dates import too_far_ahead
from cm_tracker.services.core.target_states import store_first_states
from cm_tracker.services.core.visit_calendar import normalised_plan, visits_for, weekday_codes
from cm_tracker.services.usecases import accounts

# Start dates outside this range are typing mistakes, and far-future ones would overflow the calendar.
EARLIEST_START = date(2000, 1, 1)
LATEST_START = date(2099, 12, 31)
ENDINGS = (EnrollmentStatus.COMPLETED, EnrollmentStatus.DISCHARGED)
MAX_REASON = 500


@dataclass(frozen=True)
class Enrolled:
    patient: Patient
    account: User | None
    # Shown once, on the page that answers the enrolment; never stored in clear or shown again.
    temporary_password: str | None


def admit_patient(*, display_name: str, record_number: str, program_id: int, start_on: date,
                  counselor_id: int | None, actor: User, visit_days: list[str] | None = None) -> Patient:
    """Admit a patient: the record, its enrollment in the programme and every visit the programme schedules.

    A counselor's new patient joins their own caseload; admins and managers may name any enabled counselor.
    `visit_days` replaces the programme's default days for this patient; the weeks of a visit plan start on the
    plan's default days, which usecases.visit_schedule changes per patient.
    """
    display_name, record_number = display_name.strip(), record_number.strip()
    program, counselor_id = _check(display_name, record_number, program_id, start_on, counselor_id, actor)
    days = _chosen_days(visit_days, program)
    if db.session.scalar(select(Patient.id).where(Patient.record_number == record_number)) is not None:
        raise Conflict("A patient with this record number already exists.", code="duplicate")
    patient = Patient(display_name=display_name, record_number=record_number, counselor_id=counselor_id)
    enrollment = Enrollment(patient=patient, program_id=program.id, start_on=start_on,
                            visit_days=days, visit_plan=normalised_plan(program.visit_plan, program.visit_days),
                            status=EnrollmentStatus.ACTIVE)
    db.session.add_all([patient, enrollment])
    db.session.flush()
    db.session.add_all(visits_for(enrollment, program))
    store_first_states(enrollment, clinic_today())
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


def temporary_password() -> str:
    return f"{secrets.token_urlsafe(9)}-{secrets.randbelow(90) + 10}"


def enrol(*, display_name: str, record_number: str, program_id: int, start_on: date, counselor_id: int | None,
          visit_days: list[str] | None, portal_username: str | None, actor: User) -> Enrolled:
    """Admit a patient with the visits the programme schedules on the chosen days; optionally open their portal
    account with a one-time temporary password that must be changed at first sign-in."""
    username = accounts.normalise_username(portal_username or "")
    if username:
        if not accounts.USERNAME_RE.match(username):
            raise ValidationFailed("The patient was not admitted.", fields={
                "portal_username": "Use 2 to 64 lower-case letters, digits, dots, dashes or underscores."})
        if accounts.find_user(username) is not None:
            raise ValidationFailed("The patient was not admitted.",
                                   fields={"portal_username": "This username is taken."})
    patient = admit_patient(display_name=display_name, record_number=record_number, program_id=program_id,
                            start_on=start_on, counselor_id=counselor_id, visit_days=visit_days, actor=actor)
    if not username:
        return Enrolled(patient, None, None)
    password = temporary_password()
    account = accounts.create_user(username=username, password=password, role=Role.PATIENT,
                                   display_name=patient.display_name, patient_id=patient.id,
                                   must_change_password=True, actor=actor)
    return Enrolled(patient, account, password)


def end_enrollment(enrollment: Enrollment, status: str, on: date | None, reason: str, *, actor: User) -> Enrollment:
    """Complete or discharge an episode: it ends on `on`; visits after that day are no longer due (they stay on
    record, filtered by the end date). Events already recorded after that day would fall outside: refused."""
    fields: dict[str, str] = {}
    if status not in {s.value for s in ENDINGS}:
        fields["status"] = "Choose completed or discharged."
    if on is None:
        fields["on"] = "Give the last day of the enrollment."
    elif on < enrollment.start_on:
        fields["on"] = f"The enrollment started on {enrollment.start_on:%Y-%m-%d}; it cannot end before."
    elif far := too_far_ahead(on, clinic_today()):
        fields["on"] = far
    if not reason.strip() or len(reason.strip()) > MAX_REASON:
        fields["reason"] = f"Give a reason of 1 to {MAX_REASON} characters."
    _check_active(enrollment)
    if fields or on is None:
        raise ValidationFailed("The enrollment was not ended.", fields=fields)
    # Under the lock every recording takes: no result can land after the last day, and one of two desks ending the
    # episode at once finds it ended.
    lock_enrollment(enrollment.id)
    db.session.refresh(enrollment)
    _check_active(enrollment)
    if _events_after(enrollment.id, on):
        db.session.rollback()
        raise ValidationFailed("The enrollment was not ended.", fields={
            "on": "Results are recorded after this day; choose the day of the last one or later."})
    enrollment.status, enrollment.end_on, enrollment.end_reason = EnrollmentStatus(status), on, reason.strip()
    audit.record(f"enrollment.{status}", user=actor, patient_id=enrollment.patient_id, object_type="enrollment",
                 object_id=enrollment.id, detail={"on": on.isoformat(), "reason": reason.strip()})
    db.session.commit()
    return enrollment


def _check_active(enrollment: Enrollment) -> None:
    if enrollment.status != EnrollmentStatus.ACTIVE:
        ended = enrollment.status
        db.session.rollback()
        raise Conflict(f"This enrollment has already ended ({ended}).", code="already_ended")


def _events_after(enrollment_id: int, on: date) -> bool:
    after = start_of_day(date.fromordinal(on.toordinal() + 1))
    checks = (select(Specimen.id).where(Specimen.enrollment_id == enrollment_id, Specimen.collected_at >= after),
              select(AttendanceRecord.id).where(AttendanceRecord.enrollment_id == enrollment_id,
                                                AttendanceRecord.occurred_at >= after),
              select(GoalActivity.id).where(GoalActivity.enrollment_id == enrollment_id,
                                            GoalActivity.occurred_at >= after))
    return any(db.session.scalar(q.limit(1)) is not None for q in checks)
