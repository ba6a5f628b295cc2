"""The Part 2 pages' blueprint (mounted at /staff, beside the caseload's): a patient's consents, the disclosures made
under them with the packet each carried, and the accounting of disclosures (42 CFR 2.31, 2.32, 2.25; docs/part2.md).
Every staff role reaches it, unlike the caseload's blueprint, because managers answer auditors and patients too;
each page narrows the reach to the patient's (permissions.get_patient_for: a counselor only their own caseload).
The route modules are consent_pages, disclosure_pages and accounting_pages."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from cm_tracker.errors import MESSAGES, roll_back_pending
from cm_tracker.permissions import STAFF_ROLES
from cm_tracker.security import guard_blueprint
from cm_tracker.services.core import audit
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.usecases.access_log import log_now

bp = Blueprint("part2", __name__)
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
