"""The API's error answers: every refusal is `{"error": {"code", "message", "fields"?}}` (docs/api.md)."""

from __future__ import annotations

from flask import Response, jsonify

from cm_tracker.errors import error_body, roll_back_pending
from cm_tracker.services.core.errors import ServiceError


class ApiError(ServiceError):
    """A refusal decided by the API layer itself (bad JSON, no token, role may not), with its own status."""

    def __init__(self, status: int, code: str, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message, fields=fields, code=code)
        self.status = status


def error_response(status: int, code: str | None = None, message: str | None = None,
                   fields: dict[str, str] | None = None) -> tuple[Response, int]:
    response = jsonify(error_body(status, message, code, fields))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cm-tracker"'
    return response, status


def service_error(exc: ServiceError) -> tuple[Response, int]:
    """Map a refused use case to its answer; whatever it left pending is rolled back, so nothing is half-written."""
    roll_back_pending()
    return error_response(exc.status, exc.code, exc.message, exc.fields or None)
