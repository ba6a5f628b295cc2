"""The one adapter between the services and Flask: it answers services.core.context from the request and the app, so
that services never import flask. Installed by create_app.

An audit row's actor is the signed-in user (for the API, the bearer token's user, whom api/access.py makes the
current user) and its source the client's address; outside a request (a command, a test's app context) nobody acts
and the source is "cli". The clinic's time zone and name are CLINIC_TIMEZONE and CLINIC_NAME of the current app.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context
from flask_login import current_user

from cm_tracker.net import client_address
from cm_tracker.services.core import context
from cm_tracker.services.core.context import OUTSIDE_A_REQUEST, AuditSource, ClinicSettings

DEFAULT_CLINIC_NAME = "Contingency management programme"


class FlaskContext:
    def audit_source(self) -> AuditSource:
        if not has_request_context():
            return OUTSIDE_A_REQUEST
        actor = current_user._get_current_object() if current_user and current_user.is_authenticated else None
        return AuditSource(actor=actor, address=client_address())

    def clinic_settings(self) -> ClinicSettings:
        config = current_app.config
        return ClinicSettings(timezone=ZoneInfo(config["CLINIC_TIMEZONE"]),
                              name=str(config.get("CLINIC_NAME") or DEFAULT_CLINIC_NAME))


def register(_app: Flask) -> None:
    """One adapter serves every app of the process: it reads the current one."""
    context.install(FlaskContext())
