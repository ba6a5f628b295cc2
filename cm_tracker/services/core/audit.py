"""The audit trail (docs/security.md): who did what to which patient, when, from where, and whether it was allowed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cm_tracker.extensions import db
from cm_tracker.models import AuditEvent, AuditOutcome, User
from cm_tracker.models.audit import listed
from cm_tracker.services.core import chain  # noqa: F401  (chains every audit and ledger row a flush inserts)
from cm_tracker.services.core.context import audit_source

SUCCESS = AuditOutcome.SUCCESS
DENIED = AuditOutcome.DENIED
FAILURE = AuditOutcome.FAILURE


def record(
    action: str,
    *,
    user: User | None = None,
    outcome: AuditOutcome = SUCCESS,
    patient_id: int | None = None,
    patient_ids: Iterable[int] = (),
    object_type: str | None = None,
    object_id: int | str | None = None,
    detail: dict[str, Any] | None = None,
    username: str | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction; the calling service's commit makes it permanent with its change.
    The row says what `values` says."""
    event = AuditEvent(**values(action, user=user, outcome=outcome, patient_id=patient_id, patient_ids=patient_ids,
                                object_type=object_type, object_id=object_id, detail=detail, username=username))
    db.session.add(event)
    return event


def values(
    action: str,
    *,
    user: User | None = None,
    outcome: AuditOutcome = SUCCESS,
    patient_id: int | None = None,
    patient_ids: Iterable[int] = (),
    object_type: str | None = None,
    object_id: int | str | None = None,
    detail: dict[str, Any] | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """The column values of an audit row (None where the row says nothing; the moment is the column's default).
    The actor is `user`, else whoever the context says acts (the signed-in user, or nobody outside a request).
    `patient_ids` names every patient a list or a report showed, in this one row (the audit search finds it by any).
    A read's row is written from these values by a plain INSERT (usecases.access_log), never as an object."""
    source = audit_source()
    actor = user if user is not None else source.actor
    return {
        "user_id": actor.id if actor else None,
        "username": actor.username if actor else username,
        "role": str(actor.role) if actor else None,
        "action": action,
        "patient_id": patient_id,
        "patient_ids": listed(patient_ids),
        "object_type": object_type,
        "object_id": str(object_id) if object_id is not None else None,
        "outcome": outcome,
        "source_address": source.address,
        "detail": detail,
    }
