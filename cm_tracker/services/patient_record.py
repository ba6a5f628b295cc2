"""Reads of one patient's record, or many at once: balances, ledger entries and upcoming visits.

Balances are sums of ledger rows (docs/rules.md 2), computed in the database with one grouped query for any number of
patients, so that a caseload page costs the same few queries for five patients or five hundred.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, EnrollmentStatus, LedgerEntry, Program, ProgramTarget, ScheduledVisit


@dataclass(frozen=True, slots=True)
class Balance:
    """What a patient holds: unspent points, what they are worth, and draw credits not yet used."""

    points: int = 0
    value_cents: int = 0
    draws: int = 0


def balances_for(patient_ids: Iterable[int]) -> dict[int, Balance]:
    """Each patient's balance; the value follows the point value of the programme each entry was earned in."""
    ids = list(patient_ids)
    if not ids:
        return {}
    query = (
        select(
            LedgerEntry.patient_id,
            func.coalesce(func.sum(LedgerEntry.points), 0),
            func.coalesce(func.sum(LedgerEntry.points * Program.point_value_cents), 0),
            func.coalesce(func.sum(LedgerEntry.draws), 0),
        )
        .join(Enrollment, LedgerEntry.enrollment_id == Enrollment.id)
        .join(Program, Enrollment.program_id == Program.id)
        .where(LedgerEntry.patient_id.in_(ids))
        .group_by(LedgerEntry.patient_id)
    )
    rows = db.session.execute(query)
    return {pid: Balance(int(points), int(value), int(draws)) for pid, points, value, draws in rows}


def balance_of(patient_id: int) -> Balance:
    return balances_for([patient_id]).get(patient_id, Balance())


def latest_entries(patient_id: int, limit: int = 50) -> list[LedgerEntry]:
    """The newest ledger entries first (the ledger's id order is the order they were written)."""
    query = select(LedgerEntry).where(LedgerEntry.patient_id == patient_id).order_by(LedgerEntry.id.desc())
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
