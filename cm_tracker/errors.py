"""Error answers: an HTML page for people, the JSON error body of docs/api.md for the API. Never a bare 500."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from cm_tracker.extensions import db
from cm_tracker.services.core.errors import NotFound

MESSAGES = {
    400: "The request could not be understood.",
    401: "Please sign in.",
    403: "Your role does not allow this.",
    404: "There is nothing here, or it is not yours to see.",
    405: "That action is not allowed here.",
    409: "This changed in the meantime.",
    413: "What was sent is too large.",
    422: "Some fields need attention.",
    429: "Too many attempts. Please wait a moment and try again.",
    500: "Something went wrong on our side. Nothing was saved.",
}
CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_failed",
    429: "rate_limited", 500: "internal_error",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_body(status: int, message: str | None = None, code: str | None = None,
               fields: dict[str, str] | None = None) -> dict[str, object]:
    error: dict[str, object] = {"code": code or CODES.get(status, "error"),
                                "message": message or MESSAGES.get(status, "Error.")}
    if fields:
        error["fields"] = fields
    return {"error": error}


def roll_back_pending() -> None:
    """An error answer first drops whatever the request left pending, so that nothing is half-written; the one place
    views' error handlers touch the session (the views themselves never do)."""
    db.session.rollback()


def _render(status: int) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify(error_body(status)), status
    return render_template("errors/error.html", status=status, message=MESSAGES.get(status, "Error.")), status


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response | str, int]:
        return _render(exc.code or 500)

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound) -> tuple[Response | str, int]:
        """A record a service could not find (or that is out of reach) is a 404 on every page, as in the API."""
        roll_back_pending()
        return _render(404)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response | str, int]:
        roll_back_pending()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(500)
