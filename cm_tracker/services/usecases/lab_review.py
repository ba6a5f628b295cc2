"""Staff's review of held lab results (docs/labs.md "The review queue and the pages"): match one to a
patient, apply it again (a code added to the map since), or dismiss it with a reason. Each commits once and is
audited; a result no longer waiting (someone resolved it meanwhile) is refused with a Conflict.

Applying reads the stored body again with the LOINC map in force now (so a code added since counts), and goes
through the same plan and writes as a message (usecases/lab_plan.py, lab_apply.py). The held row
becomes `matched`, pointing at the LabResult row the application wrote; a result still not applicable stays waiting
with the new reason, and nothing else of the attempt is kept.
"""

from __future__ import annotations

from sqlalchemy import update

from cm_tracker.extensions import db
from cm_tracker.labs.observations import LabParseError
from cm_tracker.models import LabAction, LabMessage, LabResult, Patient, ReviewStatus, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.usecases.lab_apply import LabResultOutcome, apply_plans
from cm_tracker.services.usecases.lab_plan import plan_all
from cm_tracker.services.usecases.lab_results import read_again
from cm_tracker.services.usecases.transactions import commit_keeping_loaded
from cm_tracker.timeutil import utcnow


def match_to_patient(result: LabResult, patient: Patient, *, actor: User) -> LabResultOutcome:
    """Apply a held result to this patient (the record number it names is wrong or unknown)."""
    return _apply(result, patient, actor=actor, action="lab.match")


def apply_again(result: LabResult, *, actor: User) -> LabResultOutcome:
    """Apply a held result to the patient its record number names, as if it arrived now."""
    return _apply(result, None, actor=actor, action="lab.apply_again")


def dismiss(result: LabResult, reason: str, *, actor: User) -> None:
    if not reason.strip():
        raise ValidationFailed("Say why the result is dismissed.", fields={"reason": "Give a reason."})
    if len(reason) > 2000:
        raise ValidationFailed("The result was not dismissed.", fields={"reason": "Keep it under 2,000 characters."})
    _claim(result, ReviewStatus.DISMISSED, actor)
    result.review_note = reason.strip()
    audit.record("lab.dismiss", user=actor, patient_id=result.patient_id, object_type="lab_result",
                 object_id=result.id, detail={"accession": result.accession, "reason": reason.strip()})
    db.session.commit()


def _apply(result: LabResult, patient: Patient | None, *, actor: User, action: str) -> LabResultOutcome:
    if result.review_status != ReviewStatus.WAITING:  # before reading the body again: _claim decides at the end
        raise Conflict(_NOT_WAITING, code="not_waiting")
    message = db.session.get(LabMessage, result.message_id)
    assert message is not None
    try:
        plan, lab = read_again(message, result.accession) if "problem" not in result.content else (None, "")
    except LabParseError as error:  # the stored body no longer reads (a reader changed since it was held)
        raise Conflict(f"The stored message cannot be read again ({error.where}: {error.message}), so there is "
                       "nothing to apply: dismiss it, and have the lab send it again.", code="unreadable") from None
    if plan is None:
        raise Conflict("This row could not be read, so there is nothing to apply: dismiss it, and have the lab "
                       "send it again.", code="unreadable")
    _claim(result, ReviewStatus.MATCHED, actor)
    try:
        with db.session.begin_nested():
            plan_all([plan], patient=patient)
            [(outcome, row)] = apply_plans(message.id, [plan], lab=lab, actor=actor)
            if outcome.action == LabAction.HELD:
                raise _StillHeld(outcome)  # nothing of the attempt is kept: the result waits, with the new reason
    except _StillHeld as held:
        return _still_waiting(result, held.outcome, actor, action)
    result.resolved_by_result_id = row.id
    audit.record(action, user=actor, patient_id=outcome.patient_id, object_type="lab_result", object_id=result.id,
                 detail={"accession": result.accession, "action": str(outcome.action), "result_id": row.id})
    commit_keeping_loaded()
    return outcome


class _StillHeld(Exception):
    def __init__(self, outcome: LabResultOutcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


def _still_waiting(result: LabResult, outcome: LabResultOutcome, actor: User, action: str) -> LabResultOutcome:
    result.review_status, result.reviewed_by_id, result.reviewed_at = ReviewStatus.WAITING, None, None
    result.reason = outcome.reason or result.reason
    audit.record(action, user=actor, patient_id=result.patient_id, object_type="lab_result", object_id=result.id,
                 detail={"accession": result.accession, "action": "held", "reason": result.reason})
    db.session.commit()
    outcome.held_id = result.id
    return outcome


_NOT_WAITING = "This result is no longer waiting for review: someone resolved it already."


def _claim(result: LabResult, status: ReviewStatus, actor: User) -> None:
    """Move the result out of the queue only if it is still waiting (one conditional UPDATE), so two people
    resolving it at once cannot both succeed."""
    now = utcnow()
    claimed = db.session.execute(
        update(LabResult).where(LabResult.id == result.id, LabResult.review_status == ReviewStatus.WAITING)
        .values(review_status=status, reviewed_by_id=actor.id, reviewed_at=now)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise Conflict(_NOT_WAITING, code="not_waiting")
    result.review_status, result.reviewed_by_id, result.reviewed_at = status, actor.id, now
