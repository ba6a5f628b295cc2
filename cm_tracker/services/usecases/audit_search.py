"""Searching the audit trail (admins), the search itself recorded ("audit.search") with the criteria used, so that
reading who read a patient's record leaves a trace too."""

from __future__ import annotations

from dataclasses import asdict

from cm_tracker.models import User
from cm_tracker.services.queries.audit_search import AuditCriteria, AuditPage, find
from cm_tracker.services.usecases.access_log import log_now


def search(criteria: AuditCriteria, *, page: int, timezone: str, actor: User) -> AuditPage:
    """One page of matching events, newest first; records the search itself in the trail."""
    found = find(criteria, page=page, timezone=timezone)
    log_now("audit.search", user=actor, object_type="audit_events",
            detail={"criteria": _describe(criteria), "page": found.page})
    return found


def _describe(criteria: AuditCriteria) -> dict[str, str]:
    return {name: str(value) for name, value in asdict(criteria).items() if value}
