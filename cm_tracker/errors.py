"""Error answers: an HTML page for people, the JSON error body of docs/api.md for the API. Never a bare 500.

An unexpected error is logged under a new error id, with its route and the classes of its exceptions (never the
query string, a form value or an exception's message: cm_tracker/logs.py), and the same id is shown to the person
who met it, so that the clinic's support can find the log line they mean.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from cm_tracker import logs
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
               fields: dict[str, str] | None = None, error_id: str | None = None) -> dict[str, object]:
    error: dict[str, object] = {"code": code or CODES.get(status, "error"),
                                "message": message or MESSAGES.get(status, "Error.")}
    if fields:
        error["fields"] = fields
    if error_id:
        error["error_id"] = error_id
    return {"error": error}


def log_unexpected(exc: BaseException, what: str = "Unhandled error") -> str:
    """Log `exc` under a new error id, naming the route as declared (its pattern, not the path with its ids, and
    never the query string); returns the id."""
    error_id = logs.new_error_id()
    rule = request.url_rule.rule if request.url_rule else "-"
    current_app.logger.error("%s (error id %s) on %s %s, endpoint %s: %s", what, error_id, request.method, rule,
                             request.endpoint or "-", logs.class_name(exc), exc_info=exc,
                             extra={"error_id": error_id})
    return error_id


def roll_back_pending() -> None:
    """An error answer first drops whatever the request left pending, so that nothing is half-written; the one place
    views' error handlers touch the session (the views themselves never do)."""
    db.session.rollback()


def _render(status: int, error_id: str | None = None) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify(error_body(status, error_id=error_id)), status
    return render_template("errors/error.html", status=status, message=MESSAGES.get(status, "Error."),
                           error_id=error_id), status


def register(app: Flask) -> None:
    logs.install()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response | str, int] | tuple[Response | str, int, dict[str, str]]:
        status = exc.code or 500
        if status < 500:
            # RFC 9110 15.5.6: a 405 names the methods the path does allow; Werkzeug's MethodNotAllowed knows them.
            allow = {name: value for name, value in exc.get_headers() if name == "Allow"}
            return (*_render(status), allow) if allow else _render(status)
        # Flask's own 500 (an error handler or an after-request hook failed), or a 5xx raised on purpose.
        roll_back_pending()
        return _render(status, log_unexpected(getattr(exc, "original_exception", None) or exc))

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound) -> tuple[Response | str, int]:
        """A record a service could not find (or that is out of reach) is a 404 on every page, as in the API."""
        roll_back_pending()
        return _render(404)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response | str, int]:
        roll_back_pending()
        return _render(500, log_unexpected(exc))
