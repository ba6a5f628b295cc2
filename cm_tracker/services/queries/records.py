"""A patient's records by id, for the access check of a URL that names one (permissions.get_record_for): whose
record it is, and the record only as that patient's."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import AttendanceRecord, Draw, GoalActivity, Redemption, Specimen
from cm_tracker.services.core.errors import NotFound

PatientRecord = TypeVar("PatientRecord", Specimen, AttendanceRecord, GoalActivity, Redemption, Draw)

NAMES: dict[type, str] = {Specimen: "specimen", AttendanceRecord: "attendance record", GoalActivity: "activity",
                          Redemption: "redemption", Draw: "draw"}


def patient_of(kind: type[PatientRecord], record_id: int) -> int:
    """The id of the record's patient, or 0 (no patient), so that the access check answers an unknown id exactly as
    it answers one outside the user's reach."""
    return int(db.session.scalar(select(kind.patient_id).where(kind.id == record_id)) or 0)


def record_of(kind: type[PatientRecord], patient_id: int, record_id: int) -> PatientRecord:
    """The record if it is this patient's; another patient's record is not found, like a missing one."""
    record = db.session.get(kind, record_id)
    if record is None or record.patient_id != patient_id:
        raise NotFound(f"No such {NAMES[kind]}.")
    return record
