"""Reads of one patient's record for the staff pages: the newest ledger entries, upcoming visits and target names."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, EnrollmentStatus, LedgerEntry, ProgramTarget, ScheduledVisit
from cm_tracker.services.queries.ledger_order import posted_newest_first


def latest_entries(patient_id: int, limit: int = 50) -> list[LedgerEntry]:
    """The newest ledger entries first, as posted (queries.ledger_order)."""
    query = select(LedgerEntry).where(LedgerEntry.patient_id == patient_id).order_by(*posted_newest_first())
    return list(db.session.scalars(query.limit(limit)))


def upcoming_visits(patient_id: int, today: date, limit: int = 10) -> list[ScheduledVisit]:
    """Visits of the patient's active enrolments from `today` on, soonest first."""
    query = (
        select(ScheduledVisit)
        .join(Enrollment, ScheduledVisit.enrollment_id == Enrollment.id)
        .where(Enrollment.patient_id == patient_id, Enrollment.status == EnrollmentStatus.ACTIVE,
               ScheduledVisit.due_on >= today)
        .order_by(ScheduledVisit.due_on, ScheduledVisit.kind, ScheduledVisit.id)
    )
    return list(db.session.scalars(query.limit(limit)))


def target_labels(program_ids: Iterable[int]) -> dict[tuple[int, str], str]:
    """Readable names of targets, keyed by (programme id, target key), for visit and ledger lines."""
    ids = list(set(program_ids))
    if not ids:
        return {}
    query = select(ProgramTarget.program_id, ProgramTarget.key, ProgramTarget.label)
    rows = db.session.execute(query.where(ProgramTarget.program_id.in_(ids)))
    return {(program_id, key): label for program_id, key, label in rows}
