"""The API blueprint: CSRF-exempt because it takes bearer tokens only, never the session cookie (docs/security.md)."""

from __future__ import annotations

from flask import Blueprint

from cm_tracker.api.access import guard
from cm_tracker.api.errors import service_error
from cm_tracker.extensions import csrf
from cm_tracker.services.core.errors import ServiceError
from cm_tracker.validation import MAX_ROW_ID

bp = Blueprint("api", __name__)
csrf.exempt(bp)
bp.before_request(guard)
bp.register_error_handler(ServiceError, service_error)

# Ids in paths are database INTEGERs; anything larger is simply not found.
ID = f"int(min=1, max={MAX_ROW_ID})"
