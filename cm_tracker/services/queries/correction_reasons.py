"""Why a correction happened, for the portal's correction lines: the lab, staff with the reason they gave, an
excuse or a clinic closure with its reason, or a recalculation (an earlier visit entered late).

A correction's adjustments carry its reason in their text (core.evaluation writes "Correction (<reason>): ..."), and
that reason is the reason of the record version the correction wrote in the same transaction; the version's data
then says whether the lab's result replaced the cup's (docs/rules.md 9). patient/wording.py says it in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, tuple_

from cm_tracker.extensions import db
from cm_tracker.models import AttendanceRecord, LedgerEntry, Patient, RecordType, RecordVersion, Specimen
from cm_tracker.services.core.excuses import closure_text, excuse_text


@dataclass(frozen=True)
class Why:
    """Why a correction happened, as a code a sentence can be chosen by: "lab" (a lab's result replaced the cup's),
    "staff" (a correction with the reason staff gave), "excused" and "closed" (an excuse or a clinic closure, with its
    reason), "recalculated" (an earlier visit entered late or another change to the history)."""

    code: str
    reason: str = ""


def correction_whys(patient: Patient, adjustments: Sequence[LedgerEntry]) -> dict[int, Why]:
    """Why each adjustment was posted. A correction's adjustments name its reason (core.evaluation writes
    "Correction (<reason>): ..."), which is the reason of the record version that made them: the version of one of
    the patient's records with that reason, nearest in time to the adjustment (they are written in one transaction).
    One statement (every version of the patient's corrected records), and none for a page without corrections."""
    if not adjustments:
        return {}
    versions = _corrected_versions(patient)
    found: dict[int, Why] = {}
    for entry in adjustments:
        matches = [v for v in versions if v.version > 1 and entry.reason.startswith(f"Correction ({v.reason}): ")]
        if not matches:
            found[entry.id] = Why("recalculated")
            continue
        chosen = min(matches, key=lambda v: abs((v.changed_at - entry.created_at).total_seconds()))
        earlier = next((v for v in versions if (v.record_type, v.record_id, v.version) ==
                        (chosen.record_type, chosen.record_id, chosen.version - 1)), None)
        found[entry.id] = _why(chosen, earlier)
    return found


def _why(version: RecordVersion, earlier: RecordVersion | None) -> Why:
    reason, before = version.reason, (earlier.data if earlier else {})
    for code, prefix in (("excused", excuse_text("")), ("closed", closure_text(""))):
        if reason.startswith(prefix):
            return Why(code, reason.removeprefix(prefix))
    # The lab's final result replaces a cup's (docs/rules.md 9): the correction made it a lab result, or ended a wait.
    by_lab = version.data.get("method") == "lab" and (before.get("method") != "lab"
                                                      or before.get("status") == "pending")
    return Why("lab", reason) if by_lab else Why("staff", reason)


def _corrected_versions(patient: Patient) -> list[RecordVersion]:
    """Every version of each of the patient's specimens and session marks that was ever corrected."""
    corrected = select(RecordVersion.record_type, RecordVersion.record_id).where(RecordVersion.version > 1)
    mine = or_(
        (RecordVersion.record_type == RecordType.SPECIMEN)
        & RecordVersion.record_id.in_(select(Specimen.id).where(Specimen.patient_id == patient.id)),
        (RecordVersion.record_type == RecordType.ATTENDANCE)
        & RecordVersion.record_id.in_(select(AttendanceRecord.id).where(AttendanceRecord.patient_id == patient.id)))
    query = select(RecordVersion).where(mine, tuple_(RecordVersion.record_type, RecordVersion.record_id).in_(corrected))
    return list(db.session.scalars(query))
