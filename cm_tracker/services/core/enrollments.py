"""Which enrollment an event or a clinic day belongs to, and a patient's current episode."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Date, bindparam, or_, select
from sqlalchemy.orm import joinedload

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, EnrollmentStatus, Patient, Program, ProgramTarget
from cm_tracker.services.core.clinic import clinic_date
from cm_tracker.services.core.errors import ValidationFailed


def enrollment_on(patient: Patient, moment: datetime, field: str = "collected_at") -> Enrollment:
    """The enrollment covering the clinic date of `moment` (newest first), or a field error naming the date."""
    day = clinic_date(moment)
    enrollment = db.session.scalars(_COVERING, {"patient_id": patient.id, "day": day}).unique().first()
    if enrollment is None:
        raise ValidationFailed("The patient is not enrolled on that date.",
                               fields={field: f"{patient.display_name} has no enrollment covering {day:%Y-%m-%d}."})
    return enrollment


# Built once, with the programme's rules loaded beside it in the same statement (LIMIT 1 applies to the enrolment:
# SQLAlchemy joins the targets and their versions to a subquery that holds it). Joined rather than a select-in per
# collection: every recording evaluates the enrollment it finds here, and the two extra statements cost three times
# the ORM work of the one join.
_DAY = bindparam("day", type_=Date())
_COVERING = (
    select(Enrollment)
    .where(Enrollment.patient_id == bindparam("patient_id"), Enrollment.start_on <= _DAY)
    .where((Enrollment.end_on.is_(None)) | (Enrollment.end_on >= _DAY))
    .order_by(Enrollment.start_on.desc(), Enrollment.id.desc())
    .limit(1)
    .options(joinedload(Enrollment.program).joinedload(Program.targets).joinedload(ProgramTarget.schedule_versions))
)


def current_enrollment(patient: Patient) -> Enrollment | None:
    """The active episode that started last, else the most recent episode of any status (a discharged patient
    still sees their balance). Reads the loaded relationship, so a caseload can preload it for every patient."""
    return current_of(patient.enrollments)


def current_of(episodes: Iterable[Enrollment]) -> Enrollment | None:
    """`current_enrollment` among these episodes (of one patient), for callers that loaded them in bulk."""
    return max(episodes, key=lambda e: (e.status == EnrollmentStatus.ACTIVE, e.start_on, e.id), default=None)


def covering_among(episodes: Iterable[Enrollment], moment: datetime) -> Enrollment | None:
    """`enrollment_on` among these episodes (of one patient), for callers that loaded them in bulk (a lab's file):
    the same rule as _COVERING, newest start first."""
    day = clinic_date(moment)
    found = [e for e in episodes if e.start_on <= day and (e.end_on is None or e.end_on >= day)]
    return max(found, key=lambda e: (e.start_on, e.id), default=None)


def active_on(day: date) -> list[object]:
    """Conditions for an enrollment running on `day`: never a visit before its start or after its end."""
    return [Enrollment.start_on <= day, or_(Enrollment.end_on.is_(None), Enrollment.end_on >= day)]


def enrollment_covering(patient: Patient, day: date) -> Enrollment:
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == patient.id, *active_on(day))
                                   .order_by(Enrollment.start_on.desc(), Enrollment.id.desc()).limit(1))
    if enrollment is None:
        raise ValidationFailed("The patient is not enrolled on that date.",
                               fields={"on": f"{patient.display_name} has no enrollment covering {day:%Y-%m-%d}."})
    return enrollment
