"""Recording attendance at a session; awards are posted in the same transaction (docs/rules.md 3: attendance)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from cm_tracker.engine.outcomes import classify_attendance
from cm_tracker.engine.rules import TargetKind
from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    AttendanceStatus,
    Enrollment,
    EventType,
    LedgerEntry,
    Patient,
    RecordType,
    RecordVersion,
    User,
    VisitKind,
)
from cm_tracker.services.core import audit
from cm_tracker.services.core.clinic import clinic_date
from cm_tracker.services.core.enrollments import enrollment_on
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.excuses import EXCUSED_ATTENDANCE, excused_because, with_excuse
from cm_tracker.services.core.ledger import entries_for_event, lock_enrollment
from cm_tracker.services.core.versions import claim_version
from cm_tracker.services.core.visit_links import visit_for
from cm_tracker.services.usecases.reevaluation import attempts, claim, reevaluate_and_refresh
from cm_tracker.services.usecases.specimens import FUTURE_TOLERANCE
from cm_tracker.services.usecases.transactions import commit_keeping_loaded
from cm_tracker.timeutil import utcnow


@dataclass(frozen=True)
class AttendanceRecorded:
    record: AttendanceRecord
    outcomes: dict[str, str]
    awards: list[LedgerEntry]
    adjustments: list[LedgerEntry]
    is_duplicate: bool = False


def record_attendance(patient: Patient, *, occurred_at: datetime, target_key: str, status: AttendanceStatus,
                      actor: User | None, note: str = "", visit_id: int | None = None) -> AttendanceRecorded:
    """Mark one patient at one session of an attendance target; a retry of the same mark posts nothing.

    `visit_id` names the scheduled session it fulfils; without it, the open session of that day is taken.
    """
    enrollment = enrollment_on(patient, occurred_at, field="occurred_at")
    kinds = {t.key: t.kind for t in enrollment.program.targets}
    fields: dict[str, str] = {}
    if kinds.get(target_key) != TargetKind.ATTENDANCE:
        names = ", ".join(k for k, v in kinds.items() if v == TargetKind.ATTENDANCE) or "none"
        fields["target"] = f"The programme has no attendance target {target_key!r} (it has: {names})."
    if occurred_at > utcnow() + FUTURE_TOLERANCE:
        fields["occurred_at"] = "The session time is in the future."
    if fields:
        raise ValidationFailed("The attendance was not recorded.", fields=fields)
    # An unexcused absence on a day already excused is stored excused (core.excuses): the excuse wins in either order.
    excused = EXCUSED_ATTENDANCE.get(status)
    because = excused_because(enrollment.id, clinic_date(occurred_at)) if excused else None
    if excused is not None and because is not None:
        status, note = excused, with_excuse(note, because)
    outcome = {target_key: str(classify_attendance(status).outcome)}
    # Read and check first, lock after (usecases.reevaluation.prepare / claim), as record_specimen does.
    for prepared in attempts(enrollment):
        existing = db.session.scalar(select(AttendanceRecord).where(
            AttendanceRecord.enrollment_id == enrollment.id, AttendanceRecord.target_key == target_key,
            AttendanceRecord.occurred_at == occurred_at))
        if existing is not None:
            db.session.rollback()
            if existing.status != status:
                raise Conflict("This session is already marked for the patient; correct it instead.",
                               code="duplicate")
            return AttendanceRecorded(existing, outcome, list(entries_for_event(EventType.ATTENDANCE, existing.id)),
                                      [], True)
        found_visit = visit_for(enrollment.id, VisitKind.SESSION, clinic_date(occurred_at), visit_id=visit_id,
                                target_key=target_key)
        if claim(prepared):
            break
    record = AttendanceRecord(patient_id=patient.id, enrollment_id=enrollment.id, target_key=target_key,
                              occurred_at=occurred_at, status=status, note=note,
                              recorded_by_id=actor.id if actor else None, visit_id=found_visit)
    db.session.add(record)
    db.session.flush()
    posted = reevaluate_and_refresh(enrollment, because=f"a session of {occurred_at:%Y-%m-%d} was entered late",
                                    actor=actor, prepared=prepared, attendance=[record])
    audit.record("attendance.create", user=actor, patient_id=patient.id, object_type="attendance",
                 object_id=record.id, detail={"status": str(status), "target": target_key})
    commit_keeping_loaded()
    mine = [e for e in posted if e.event_type == EventType.ATTENDANCE and e.event_id == record.id]
    return AttendanceRecorded(record, outcome, mine, [e for e in posted if e not in mine])


def _attendance_snapshot(record: AttendanceRecord) -> dict[str, str]:
    return {"occurred_at": record.occurred_at.isoformat(), "status": str(record.status), "target": record.target_key,
            "note": record.note}


def correct_attendance(record: AttendanceRecord, *, version: int, reason: str, changes: dict[str, object],
                       actor: User | None) -> AttendanceRecorded:
    """A new version of a session mark with who, when and why; the history is re-evaluated and differences posted
    (docs/rules.md 6), as for specimens. `changes` may hold status, occurred_at and note."""
    recorded = apply_attendance_correction(record, version=version, reason=reason, changes=changes, actor=actor)
    db.session.commit()
    return recorded


def apply_attendance_correction(record: AttendanceRecord, *, version: int, reason: str,
                                changes: dict[str, object], actor: User | None) -> AttendanceRecorded:
    """correct_attendance without the commit, so that a preview (usecases.corrections) runs exactly this code."""
    fields: dict[str, str] = {}
    if not reason.strip():
        fields["reason"] = "Give a reason."
    unknown = set(changes) - {"status", "occurred_at", "note"}
    if unknown:
        fields.update({name: "This cannot be corrected here." for name in unknown})
    if fields:
        raise ValidationFailed("Say why the attendance is corrected.", fields=fields)
    lock_enrollment(record.enrollment_id)
    claim_version(record, version, what="attendance record")
    db.session.refresh(record)
    _check_correction(record, changes)
    if not db.session.scalar(select(RecordVersion.id).where(
            RecordVersion.record_type == RecordType.ATTENDANCE, RecordVersion.record_id == record.id,
            RecordVersion.version == version)):
        # The first correction keeps the original as it was recorded, so the history starts where it started.
        db.session.add(RecordVersion(record_type=RecordType.ATTENDANCE, record_id=record.id, version=version,
                                     data=_attendance_snapshot(record), reason="recorded",
                                     changed_by_id=record.recorded_by_id, changed_at=record.created_at))
    for name, value in changes.items():
        if name == "status":
            value = AttendanceStatus(str(value))
        setattr(record, name, value if name != "note" else str(value or ""))
    db.session.add(RecordVersion(record_type=RecordType.ATTENDANCE, record_id=record.id, version=record.version,
                                 data=_attendance_snapshot(record), reason=reason.strip(),
                                 changed_by_id=actor.id if actor else None))
    posted = reevaluate_and_refresh(db.session.get(Enrollment, record.enrollment_id), because=reason.strip(),
                                    actor=actor)
    audit.record("attendance.correct", user=actor, patient_id=record.patient_id, object_type="attendance",
                 object_id=record.id, detail={"version": record.version, "reason": reason.strip()})
    return AttendanceRecorded(record, {record.target_key: str(classify_attendance(record.status).outcome)}, [],
                              posted)


def _check_correction(record: AttendanceRecord, changes: dict[str, object]) -> None:
    fields: dict[str, str] = {}
    if "status" in changes and str(changes["status"]) not in {s.value for s in AttendanceStatus}:
        fields["status"] = "Choose attended, excused or unexcused."
    when = changes.get("occurred_at")
    if when is not None:
        if not isinstance(when, datetime) or when.tzinfo is None:
            fields["occurred_at"] = "Give the session time with its offset."
        elif when > utcnow() + FUTURE_TOLERANCE:
            fields["occurred_at"] = "The session time is in the future."
        elif enrollment_on(db.session.get(Patient, record.patient_id), when,
                           field="occurred_at").id != record.enrollment_id:
            fields["occurred_at"] = "That time falls in another enrollment; record it there instead."
    if len(str(changes.get("note", ""))) > 2000:
        fields["note"] = "Keep the note under 2,000 characters."
    if fields:
        raise ValidationFailed("The attendance was not corrected.", fields=fields)
