"""Enrolment at the desk: admitting a patient (with an optional portal account), ending an episode, editing and
finding patient records."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

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
from cm_tracker.services import accounts, audit
from cm_tracker.services.clinic import start_of_day
from cm_tracker.services.errors import Conflict, ValidationFailed
from cm_tracker.services.patients import create_patient

ENDINGS = (EnrollmentStatus.COMPLETED, EnrollmentStatus.DISCHARGED)
MAX_REASON = 500


@dataclass(frozen=True)
class Enrolled:
    patient: Patient
    account: User | None
    # Shown once, on the page that answers the enrolment; never stored in clear or shown again.
    temporary_password: str | None


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
    patient = create_patient(display_name=display_name, record_number=record_number, program_id=program_id,
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
    elif _events_after(enrollment.id, on):
        fields["on"] = "Results are recorded after this day; choose the day of the last one or later."
    if not reason.strip() or len(reason.strip()) > MAX_REASON:
        fields["reason"] = f"Give a reason of 1 to {MAX_REASON} characters."
    if enrollment.status != EnrollmentStatus.ACTIVE:
        raise Conflict(f"This enrollment has already ended ({enrollment.status}).", code="already_ended")
    if fields or on is None:
        raise ValidationFailed("The enrollment was not ended.", fields=fields)
    enrollment.status, enrollment.end_on, enrollment.end_reason = EnrollmentStatus(status), on, reason.strip()
    enrollment.version += 1
    audit.record(f"enrollment.{status}", user=actor, patient_id=enrollment.patient_id, object_type="enrollment",
                 object_id=enrollment.id, detail={"on": on.isoformat(), "reason": reason.strip()})
    db.session.commit()
    return enrollment


def _events_after(enrollment_id: int, on: date) -> bool:
    after = start_of_day(date.fromordinal(on.toordinal() + 1))
    checks = (select(Specimen.id).where(Specimen.enrollment_id == enrollment_id, Specimen.collected_at >= after),
              select(AttendanceRecord.id).where(AttendanceRecord.enrollment_id == enrollment_id,
                                                AttendanceRecord.occurred_at >= after),
              select(GoalActivity.id).where(GoalActivity.enrollment_id == enrollment_id,
                                            GoalActivity.occurred_at >= after))
    return any(db.session.scalar(q.limit(1)) is not None for q in checks)


def update_patient(patient: Patient, *, version: int, changes: dict[str, Any], actor: User) -> Patient:
    """Rename a patient or (admins and managers) move them to another counselor's caseload; a stale version is
    refused so that two desks cannot overwrite each other."""
    fields: dict[str, str] = {}
    name = changes.get("display_name")
    if name is not None and (not name.strip() or len(name.strip()) > 120):
        fields["display_name"] = "Give a name of 1 to 120 characters."
    if "counselor_id" in changes:
        fields.update(_counselor_problem(changes["counselor_id"], actor))
    if fields:
        raise ValidationFailed("The patient was not changed.", fields=fields)
    if patient.version != version:
        raise Conflict(f"This patient record changed since you loaded it (now version {patient.version}); reload "
                       "and try again.", code="stale_version")
    before = {"display_name": patient.display_name, "counselor_id": patient.counselor_id}
    if name is not None:
        patient.display_name = name.strip()
    if "counselor_id" in changes:
        patient.counselor_id = changes["counselor_id"]
    patient.version += 1
    audit.record("patient.update", user=actor, patient_id=patient.id, object_type="patient", object_id=patient.id,
                 detail={"before": before, "version": patient.version})
    db.session.commit()
    return patient


def _counselor_problem(counselor_id: int | None, actor: User) -> dict[str, str]:
    if actor.role not in (Role.ADMIN, Role.MANAGER):
        return {"counselor_id": "Only admins and managers move a patient to another caseload."}
    if counselor_id is None:
        return {}
    counselor = db.session.get(User, counselor_id)
    if counselor is None or counselor.role != Role.COUNSELOR or counselor.is_disabled:
        return {"counselor_id": "Choose an enabled counselor."}
    return {}


def search_patients(user: User, q: str, page: int, per_page: int) -> tuple[list[Patient], int]:
    """Patients within the user's reach (a counselor's own caseload; admins and managers every patient), matching
    `q` in the name or record number, in pages; the search is audited, the page of results too."""
    query = select(Patient)
    if user.role == Role.COUNSELOR:
        query = query.where(Patient.counselor_id == user.id)
    elif user.role not in (Role.ADMIN, Role.MANAGER):
        query = query.where(Patient.id.is_(None))
    if q.strip():
        escaped = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(or_(func.lower(Patient.display_name).like(pattern, escape="\\"),
                                func.lower(Patient.record_number).like(pattern, escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = list(db.session.scalars(query.options(selectinload(Patient.enrollments))
                                    .order_by(Patient.display_name, Patient.id)
                                    .offset((page - 1) * per_page).limit(per_page)))
    audit.log_now("patient.search", user=user, object_type="patient",
                  detail={"q": q[:100], "page": page, "ids": [p.id for p in found]})
    return found, int(total)


def enrolment_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The programmes a patient may join (not archived) and the enabled counselors whose caseload may take them."""
    programs = db.session.execute(select(Program.id, Program.name).where(Program.is_archived.is_(False))
                                  .order_by(Program.name)).all()
    counselors = db.session.execute(select(User.id, User.display_name).where(
        User.role == Role.COUNSELOR, User.is_disabled.is_(False)).order_by(User.display_name)).all()
    return [(i, n) for i, n in programs], [(i, n) for i, n in counselors]
