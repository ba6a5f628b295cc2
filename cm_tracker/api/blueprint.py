"""The API blueprint: CSRF-exempt because it takes bearer tokens only, never the session cookie (docs/security.md)."""

from __future__ import annotations

from flask import Blueprint
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from cm_tracker.api.access import guard
from cm_tracker.api.errors import service_error
from cm_tracker.extensions import csrf
from cm_tracker.services.core.errors import ServiceError
from cm_tracker.validation import MAX_ROW_ID


class RowIdConverter(IntegerConverter):
    """An id in a path: database INTEGERs, so a number outside 1..MAX_ROW_ID is simply not found (404). Refusing it
    as a failed conversion instead would make Werkzeug answer 405 when another method's rule shares the path."""

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ROW_ID:
            raise NotFound()
        return number


def _add_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters["api_id"] = RowIdConverter


bp = Blueprint("api", __name__)
bp.record_once(_add_converter)  # before any rule below is added, since rules are added in the order recorded
csrf.exempt(bp)
bp.before_request(guard)
bp.register_error_handler(ServiceError, service_error)

ID = "api_id"
