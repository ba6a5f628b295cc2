"""The front door: each role lands on its own home page."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from cm_tracker.models import Role

bp = Blueprint("main", __name__)

HOME_BY_ROLE = {
    Role.ADMIN: "admin.index",
    Role.MANAGER: "reports.index",
    Role.COUNSELOR: "staff.caseload",
    Role.PATIENT: "patient.home",
}


@bp.route("/")
@login_required
def home() -> Response:
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))


@bp.route("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico on pages without the icon link (a CSV, a JSON error); answer with the icon."""
    return current_app.send_static_file("favicon.svg")
