"""The managers' review of manual adjustments, and finding the patient an adjustment is for."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import EntryKind, LedgerEntry, Patient, User
from cm_tracker.services.core.errors import ValidationFailed
from cm_tracker.services.queries.ledger_order import posted_newest_first


@dataclass(frozen=True)
class ManualRow:
    entry: LedgerEntry
    patient: Patient
    by: str


def recent_adjustments(limit: int = 50) -> list[ManualRow]:
    """The latest manual entries across the clinic, for the managers' review."""
    query = (select(LedgerEntry, Patient, User.display_name).join(Patient, LedgerEntry.patient_id == Patient.id)
             .outerjoin(User, LedgerEntry.created_by_id == User.id).where(LedgerEntry.kind == EntryKind.MANUAL)
             .order_by(*posted_newest_first()).limit(limit))
    return [ManualRow(e, p, name or "") for e, p, name in db.session.execute(query).all()]


def find_patient_id(record_number: str) -> int:
    """The id of the patient with this record number; unknown numbers raise the same error as any wrong input."""
    found = db.session.scalar(select(Patient.id).where(Patient.record_number == record_number.strip()))
    if found is None:
        raise ValidationFailed("No patient has this record number.",
                               fields={"record_number": "No patient has this record number."})
    return int(found)
