"""The one adapter between the services and Flask: it answers services.core.context from the request and the app, so
that services never import flask. Installed by create_app.

An audit row's actor is the signed-in user (for the API, the bearer token's user, whom api/access.py makes the
current user) and its source the client's address; outside a request (a command, a test's app context) nobody acts
and the source is "cli". The clinic's time zone and name are CLINIC_TIMEZONE and CLINIC_NAME of the current app.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, has_request_context, jsonify, render_template
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from cm_tracker import errors
from cm_tracker.net import client_address
from cm_tracker.services.core import context
from cm_tracker.services.core.context import OUTSIDE_A_REQUEST, AuditSource, ClinicSettings
from cm_tracker.services.usecases import access_log

DEFAULT_CLINIC_NAME = "Contingency management programme"


class FlaskContext:
    def audit_source(self) -> AuditSource:
        if not has_request_context():
            return OUTSIDE_A_REQUEST
        # The proxy resolved once: each use of `current_user` goes through Flask-Login's lookup again.
        user = current_user._get_current_object()
        actor = user if user and user.is_authenticated else None
        return AuditSource(actor=actor, address=client_address())

    def clinic_settings(self) -> ClinicSettings:
        config = current_app.config
        return _settings(config["CLINIC_TIMEZONE"], config.get("CLINIC_NAME"))

    def chain_key(self) -> bytes:
        return str(current_app.config["AUDIT_CHAIN_KEY"]).encode()


@lru_cache(maxsize=16)
def _settings(timezone: str, name: object) -> ClinicSettings:
    """Built once per pair of values: the services ask for the clinic's zone once per event they date (a desk entry
    evaluates a whole history), and the values are read from the current app each time, so a test's app with other
    settings gets its own."""
    return ClinicSettings(timezone=ZoneInfo(timezone), name=str(name or DEFAULT_CLINIC_NAME))


def register(_app: Flask) -> None:
    """One adapter serves every app of the process: it reads the current one."""
    context.install(FlaskContext())


def install_transaction(app: Flask) -> None:
    """The request's reads wait for one commit after the view. Registered after the security headers' hook, whose
    after-request work runs later, so that an error answer from here gets the headers too."""
    app.before_request(access_log.begin_request)
    app.after_request(_commit_reads)
    app.teardown_request(_forget)


def _commit_reads(response: Response) -> Response:
    """Runs before a streamed body's first byte too: Flask calls it with the response object, before iterating."""
    try:
        access_log.commit_request()
    except SQLAlchemyError as exc:
        error_id = errors.log_unexpected(exc, "The audit rows of a read could not be written; its answer is withheld")
        return response if response.status_code >= 500 else _withheld(error_id)
    return response


def _withheld(error_id: str) -> Response:
    if errors.wants_json():
        response = jsonify(errors.error_body(500, error_id=error_id))
    else:
        try:
            response = Response(render_template("errors/error.html", status=500, message=errors.MESSAGES[500],
                                                error_id=error_id))
        except SQLAlchemyError:  # the page names the signed-in user, whom a dead database cannot load again
            response = Response(f"{errors.MESSAGES[500]} (error id {error_id})", mimetype="text/plain")
    response.status_code = 500
    return response


def _forget(_exc: BaseException | None) -> None:
    access_log.end_request()
