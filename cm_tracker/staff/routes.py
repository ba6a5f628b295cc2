"""Counselor pages: the desk dashboard and a patient's record, reached only through permissions.get_patient_for.

The desk workflows (enrolment, desk entry, visits and excuses, roll call, goal activities, corrections) register
their routes on this blueprint from their own modules, imported at the bottom.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from cm_tracker.errors import MESSAGES
from cm_tracker.extensions import db
from cm_tracker.permissions import CASELOAD_ROLES, get_patient_for
from cm_tracker.security import guard_blueprint
from cm_tracker.services import caseload as caseload_service
from cm_tracker.services import patient_record
from cm_tracker.services.clinic import clinic_today
from cm_tracker.services.dashboard import dashboard_for
from cm_tracker.services.desk import patient_desk
from cm_tracker.services.errors import NotFound

bp = Blueprint("staff", __name__)
guard_blueprint(bp, CASELOAD_ROLES)


@bp.errorhandler(NotFound)
def _not_found(_exc: NotFound) -> tuple[str, int]:
    db.session.rollback()
    return render_template("errors/error.html", status=404, message=MESSAGES[404]), 404


@bp.route("/")
def caseload() -> str:
    return render_template("staff/caseload.html", board=dashboard_for(current_user, clinic_today()))


@bp.route("/patients/<int:patient_id>")
def patient(patient_id: int) -> str:
    record = get_patient_for(current_user, patient_id)
    today = clinic_today()
    return render_template(
        "staff/patient.html", patient=record, balance=patient_record.balance_of(record.id),
        entries=patient_record.latest_entries(record.id, limit=50),
        visits=patient_record.upcoming_visits(record.id, today, limit=10),
        labels=patient_record.target_labels(e.program_id for e in record.enrollments),
        current=caseload_service.current_enrollment(record), desk=patient_desk(record, today),
    )


from cm_tracker.staff import (  # noqa: E402, F401
    activities,
    closing,
    corrections,
    desk,
    enrolment,
    patient_edit,
    rollcall,
    visits,
)
