"""Audit rows that have no use case of their own to join: reads of a record and refused attempts, committed at once.

Every other audit row is added by core.audit.record to the transaction of the change it describes.
"""

from __future__ import annotations

from typing import Any

from cm_tracker.extensions import db
from cm_tracker.models import AuditEvent
from cm_tracker.services.core import audit


def log_now(action: str, **kwargs: Any) -> AuditEvent:
    """Record and commit at once: for reads and denials, which have no transaction of their own."""
    event = audit.record(action, **kwargs)
    db.session.commit()
    return event
