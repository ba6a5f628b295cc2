"""The API blueprint: CSRF-exempt because it takes bearer tokens only, never the session cookie (docs/security.md)."""

from __future__ import annotations

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

from cm_tracker.api.access import guard
from cm_tracker.api.errors import service_error
from cm_tracker.extensions import csrf
from cm_tracker.input_guard import RowIdConverter
from cm_tracker.services.core.errors import ServiceError


def _add_converter(state: BlueprintSetupState) -> None:
    # The app's own `int` (input_guard), under a name of the API's: a number outside 1..2^31 - 1 is a 404.
    state.app.url_map.converters["api_id"] = RowIdConverter


bp = Blueprint("api", __name__)
bp.record_once(_add_converter)  # before any rule below is added, since rules are added in the order recorded
csrf.exempt(bp)
bp.before_request(guard)
bp.register_error_handler(ServiceError, service_error)

ID = "api_id"
