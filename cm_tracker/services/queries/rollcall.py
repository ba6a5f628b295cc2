"""The sessions a counselor can call the roll of, and who is on each roster (their caseload, actively enrolled)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    AttendanceStatus,
    Enrollment,
    EnrollmentStatus,
    Patient,
    TargetKind,
    User,
)
from cm_tracker.services.core.clinic import start_of_day
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.queries.caseload import caseload_patients


@dataclass(frozen=True)
class Session:
    """A kind of session: a programme's attendance target."""

    program_id: int
    program: str
    target_key: str
    label: str

    @property
    def key(self) -> str:
        return f"{self.program_id}:{self.target_key}"


def sessions_for(user: User) -> list[Session]:
    """The attendance targets of the programmes the user's caseload is enrolled in."""
    found: dict[str, Session] = {}
    for patient in caseload_patients(user):
        enrollment = current_enrollment(patient)
        if enrollment is None or enrollment.status != EnrollmentStatus.ACTIVE:
            continue
        for t in enrollment.program.targets:
            if t.kind == TargetKind.ATTENDANCE:
                session = Session(enrollment.program_id, enrollment.program.name, t.key, t.label)
                found[session.key] = session
    return sorted(found.values(), key=lambda s: (s.program, s.label))


def roster(user: User, session: Session) -> list[Patient]:
    """The user's patients actively enrolled in the session's programme."""
    return [p for p in caseload_patients(user)
            if (e := current_enrollment(p)) is not None and e.status == EnrollmentStatus.ACTIVE
            and e.program_id == session.program_id]


@dataclass(frozen=True)
class DayMark:
    """A mark already recorded for a patient at the session's target on the roll call's day."""

    record_id: int
    patient_id: int
    status: AttendanceStatus
    occurred_at: datetime
    recorded_by: str  # the staff member's name; "" when no account recorded it (a command, an import)


def marks_on(session: Session, day: date, patient_ids: Iterable[int]) -> dict[int, DayMark]:
    """Each patient's latest mark for the session's target on the clinic's `day`, in one statement.

    The roll call shows these instead of blank choices, so a second counselor does not mark a patient twice."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(AttendanceRecord.id, AttendanceRecord.patient_id, AttendanceRecord.status,
               AttendanceRecord.occurred_at, User.display_name)
        .join(Enrollment, AttendanceRecord.enrollment_id == Enrollment.id)
        .outerjoin(User, AttendanceRecord.recorded_by_id == User.id)
        .where(AttendanceRecord.patient_id.in_(ids), Enrollment.program_id == session.program_id,
               AttendanceRecord.target_key == session.target_key,
               AttendanceRecord.occurred_at >= start_of_day(day),
               AttendanceRecord.occurred_at < start_of_day(day + timedelta(days=1)))
        .order_by(AttendanceRecord.occurred_at, AttendanceRecord.id))
    # Oldest first, so the latest of a day (two sessions entered through the API) is the one kept.
    return {r.patient_id: DayMark(r.id, r.patient_id, AttendanceStatus(r.status), r.occurred_at, r.display_name or "")
            for r in rows}
