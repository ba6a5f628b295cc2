"""Patients' balances with what they are worth, for one patient or many at once (the staff pages and caseloads).

Balances are sums of ledger rows (docs/rules.md 2), computed in the database with one grouped query for any number of
patients, so that a caseload page costs the same few queries for five patients or five hundred.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, LedgerEntry, Program


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
