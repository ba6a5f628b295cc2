"""The lab pages' blueprint (mounted at /staff/labs): every staff role, unlike the caseload's, because managers
review held lab results and keep the LOINC map. Each page narrows the reach further (permissions.py)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from cm_tracker.errors import MESSAGES, roll_back_pending
from cm_tracker.permissions import STAFF_ROLES
from cm_tracker.security import guard_blueprint
from cm_tracker.services.core import audit
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.usecases.access_log import log_now

bp = Blueprint("labs", __name__)
guard_blueprint(bp, STAFF_ROLES)


def require(allowed: bool) -> None:
    """Inside the staff-wide guard: a page for fewer roles answers 403 to the others (audited)."""
    if not allowed:
        log_now("page.denied", outcome=audit.DENIED, object_type="endpoint", object_id=request.endpoint)
        abort(403)


@bp.errorhandler(NotFound)
def _not_found(_exc: NotFound) -> tuple[str, int]:
    roll_back_pending()
    return render_template("errors/error.html", status=404, message=MESSAGES[404]), 404
