"""Roll call for a group session: mark many patients at once, each through usecases.attendance.record_attendance.

Each patient is one transaction, so one refusal (not enrolled that day, a different mark already recorded) is
reported beside that patient and never loses the others' marks. A patient already marked for the session on that
clinic day (by another counselor, or an earlier roll call at another time) is refused too: a roll call marks a
patient once a day, and a wrong mark is corrected on its own page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cm_tracker.extensions import db
from cm_tracker.models import AttendanceStatus, Patient, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.clinic import clinic_date, clinic_zone
from cm_tracker.services.core.errors import ServiceError, ValidationFailed
from cm_tracker.services.queries.rollcall import DayMark, Session, marks_on, roster
from cm_tracker.services.usecases.access_log import log_now
from cm_tracker.services.usecases.attendance import record_attendance


@dataclass(frozen=True)
class Marked:
    patient: Patient
    status: str
    ok: bool
    message: str


def mark_all(user: User, session: Session, occurred_at: datetime, marks: dict[int, str]) -> list[Marked]:
    """Record each patient's mark; blanks are skipped. Every result, success or refusal, is reported."""
    if occurred_at.tzinfo is None:
        raise ValidationFailed("Give the session time.", fields={"occurred_at": "Give a date and a time."})
    reachable = {p.id: p for p in roster(user, session)}
    already = marks_on(session, clinic_date(occurred_at), [p for p, s in marks.items() if s and p in reachable])
    done: list[Marked] = []
    for patient_id, status in marks.items():
        patient = reachable.get(patient_id)
        if not status:
            continue
        if patient is None:  # outside the user's caseload or not in this programme
            log_now("attendance.create", user=user, outcome=audit.DENIED, patient_id=patient_id,
                    object_type="patient")
            continue
        mark = already.get(patient_id)
        # At the very same time it is a resent form: record_attendance answers it (nothing new, or a conflict).
        if mark is not None and mark.occurred_at != occurred_at:
            done.append(Marked(patient, status, False, _already_marked(mark)))
            continue
        done.append(_mark(user, patient, session, occurred_at, status))
    return done


def _already_marked(mark: DayMark) -> str:
    by = f" by {mark.recorded_by}" if mark.recorded_by else ""
    at = mark.occurred_at.astimezone(clinic_zone())
    return f"Already marked {mark.status} at {at:%H:%M}{by} that day; correct that mark instead."


def _mark(user: User, patient: Patient, session: Session, occurred_at: datetime, status: str) -> Marked:
    try:
        recorded = record_attendance(patient, occurred_at=occurred_at, target_key=session.target_key,
                                     status=AttendanceStatus(status), actor=user)
    except (ServiceError, ValueError) as exc:
        db.session.rollback()
        message = getattr(exc, "message", "Choose attended, excused or unexcused.")
        fields = getattr(exc, "fields", {})
        return Marked(patient, status, False, " ".join([message, *fields.values()]))
    earned = "; ".join(e.reason for e in recorded.awards) or "recorded"
    if recorded.is_duplicate:
        earned = "already marked: nothing new posted"
    return Marked(patient, status, True, earned)
