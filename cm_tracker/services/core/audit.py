"""The audit trail (docs/security.md): who did what to which patient, when, from where, and whether it was allowed."""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_login import current_user

from cm_tracker.extensions import db
from cm_tracker.models import AuditEvent, AuditOutcome, User
from cm_tracker.net import client_address

SUCCESS = AuditOutcome.SUCCESS
DENIED = AuditOutcome.DENIED
FAILURE = AuditOutcome.FAILURE


def _acting_user(user: User | None) -> User | None:
    if user is not None:
        return user
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()  # type: ignore[no-any-return]
    return None


def record(
    action: str,
    *,
    user: User | None = None,
    outcome: AuditOutcome = SUCCESS,
    patient_id: int | None = None,
    object_type: str | None = None,
    object_id: int | str | None = None,
    detail: dict[str, Any] | None = None,
    username: str | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction; the calling service's commit makes it permanent with its change."""
    actor = _acting_user(user)
    event = AuditEvent(
        user_id=actor.id if actor else None,
        username=actor.username if actor else username,
        role=str(actor.role) if actor else None,
        action=action,
        patient_id=patient_id,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        outcome=outcome,
        source_address=client_address() if has_request_context() else "cli",
        detail=detail,
    )
    db.session.add(event)
    return event
