"""Why a correction happened, for the portal's correction lines: the lab, staff with the reason they gave, an
excuse or a clinic closure with its reason, or a recalculation (an earlier visit entered late).

A correction's adjustments carry its reason in their text (core.evaluation writes "Correction (<reason>): ..."), and
that reason is the reason of the record version the correction wrote in the same transaction; the version's data
then says whether the lab's result replaced the cup's (docs/rules.md 9). patient/wording.py says it in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
    # "lab" only: what the lab found positive that the cup had not, when the correction took that test's award back.
    found: tuple[str, ...] = ()


# Every correction a lab's result makes carries a reason starting so, naming the lab and the accession(s): the
# portal knows it for the lab's, and a withdrawal finds the version the desk had before the lab's first result.
LAB_REASON = "Lab result"


def lab_reason(lab: str, accessions: Sequence[str], *, withdrawn: bool = False) -> str:
    """"Lab result from ACME LABS, accession ACC-1001" (or "Lab result withdrawn by ...", "accessions A, B")."""
    named = f"accession {accessions[0]}" if len(accessions) == 1 else f"accessions {', '.join(accessions)}"
    return f"{LAB_REASON} {'withdrawn by' if withdrawn else 'from'} {lab}, {named}"


def is_lab_reason(reason: str) -> bool:
    return reason.startswith(f"{LAB_REASON} ")


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
        found[entry.id] = _why(chosen, earlier, entry)
    return found


def _why(version: RecordVersion, earlier: RecordVersion | None, entry: LedgerEntry) -> Why:
    reason, before = version.reason, (earlier.data if earlier else {})
    for code, prefix in (("excused", excuse_text("")), ("closed", closure_text(""))):
        if reason.startswith(prefix):
            return Why(code, reason.removeprefix(prefix))
    # The lab's final result replaces a cup's (docs/rules.md 9): the correction made it a lab result, or ended a wait.
    by_lab = is_lab_reason(reason) or (version.data.get("method") == "lab" and (
        before.get("method") != "lab" or before.get("status") == "pending"))
    if not by_lab:
        return Why("staff", reason)
    # A lab's own result (usecases/lab_results.py) that took the cup's award back says what it found, in plain words.
    found = _found(version, before) if is_lab_reason(reason) and _taken_back(entry, version) else ()
    return Why("lab", reason, found)


def _taken_back(entry: LedgerEntry, version: RecordVersion) -> bool:
    """The adjustment takes back (some of) the award of the very test the lab corrected, not a later one's."""
    return (str(entry.event_type), entry.event_id) == ("specimen", version.record_id) and (
        entry.points < 0 or entry.draws < 0)


def _found(version: RecordVersion, before: dict[str, Any]) -> tuple[str, ...]:
    results, earlier = version.data.get("results") or {}, before.get("results") or {}
    return tuple(sorted(a for a, r in results.items() if r == "positive" and earlier.get(a) != "positive"))


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
