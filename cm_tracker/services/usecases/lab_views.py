"""The lab pages' reads, audited like every other read of patient data (docs/security.md "Audit"): the review queue
is one row naming every patient it showed (usecases.listings), a held result or a stored body one row of its own.
A body names patients whether or not the lab's record numbers matched anyone, so its view is audited even when it
names no known patient."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from cm_tracker.models import LabResult, User
from cm_tracker.services.queries import lab_messages, lab_review
from cm_tracker.services.usecases.access_log import log_now
from cm_tracker.services.usecases.listings import log_listed


def review_queue(user: User, scope: ColumnElement[bool], *, page: int, code: str
                 ) -> tuple[lab_review.Queue, list[lab_review.ResolvedRow]]:
    """The held results waiting within `scope` and those resolved lately."""
    queue = lab_review.waiting(scope, page=page, code=code)
    recent = lab_review.recently_resolved(scope)
    shown = [r.patient.id for r in queue.rows if r.patient] + [r.patient.id for r in recent if r.patient]
    log_listed("lab_review.view", shown, user=user, page=queue.page, code=code or None)
    return queue, recent


def held_result(user: User, result: LabResult) -> lab_review.HeldRow:
    """One held result, for the match page."""
    row = lab_review.held_row(result)
    log_now("lab_result.view", user=user, patient_id=result.patient_id, object_type="lab_result",
            object_id=result.id, detail={"record_number": result.record_number, "accession": result.accession})
    return row


def message(user: User, message_id: int) -> lab_messages.MessageDetail:
    """One lab message with its stored body (NotFound for an unknown id)."""
    detail = lab_messages.message_detail(message_id)
    log_now("lab_message.view", user=user, patient_ids=detail.patient_ids, object_type="lab_message",
            object_id=message_id, detail={"body_id": detail.message.body_id,
                                          "accessions": [r.result.accession for r in detail.results][:50]})
    return detail
