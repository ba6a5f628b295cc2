"""An excused day wins over a missed record, whichever was typed first (docs/rules.md 3.2).

The one owner of which records an excuse or a clinic closure turns into excused ones and of what they then say:
recording a missed test or an unexcused session on a day already excused stores it excused (usecases.specimens,
usecases.attendance), and an excuse or closure entered later corrects the day's missed records to excused
(usecases.visits), so both orders give the same ledger, outcome and note.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import AttendanceStatus, ClinicClosure, Excuse, SpecimenStatus

# What a not-submitted record becomes on an excused day.
EXCUSED_SPECIMEN = {SpecimenStatus.MISSED: SpecimenStatus.EXCUSED}
EXCUSED_ATTENDANCE = {AttendanceStatus.UNEXCUSED: AttendanceStatus.EXCUSED}


def excuse_text(reason: str) -> str:
    return f"Excused: {reason}"


def closure_text(reason: str) -> str:
    return f"Clinic closed: {reason}"


def excused_because(enrollment_id: int, day: date) -> str | None:
    """Why the enrolment's visits of this clinic day are excused (its excuse, else the clinic's closure), or None."""
    reason = db.session.scalar(select(Excuse.reason).where(
        Excuse.enrollment_id == enrollment_id, Excuse.excused_on == day, Excuse.revoked_at.is_(None)).limit(1))
    if reason is not None:
        return excuse_text(reason)
    closed = db.session.scalar(select(ClinicClosure.reason).where(ClinicClosure.closed_on == day))
    return None if closed is None else closure_text(closed)


def with_excuse(note: str, because: str) -> str:
    """The record's note naming the excuse, after whatever staff typed."""
    return f"{note.strip()} ({because})" if note.strip() else because
