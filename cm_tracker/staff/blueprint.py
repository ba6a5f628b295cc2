"""The counselors' blueprint, guarded once for every route by role; each module of the package adds its pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from cm_tracker.errors import MESSAGES, roll_back_pending
from cm_tracker.permissions import CASELOAD_ROLES
from cm_tracker.security import guard_blueprint
from cm_tracker.services.core.errors import NotFound

bp = Blueprint("staff", __name__)
guard_blueprint(bp, CASELOAD_ROLES)


@bp.errorhandler(NotFound)
def _not_found(_exc: NotFound) -> tuple[str, int]:
    roll_back_pending()
    return render_template("errors/error.html", status=404, message=MESSAGES[404]), 404
