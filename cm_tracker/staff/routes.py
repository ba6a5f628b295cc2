"""Counselor pages: the desk dashboard and a patient's record, reached only through permissions.get_patient_for."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from cm_tracker.permissions import get_patient_for, lab_result_scope, patient_scope
from cm_tracker.services.core import balances
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.queries import consents, lab_review, patient_record, visits
from cm_tracker.services.queries.desk import patient_desk
from cm_tracker.services.queries.redemptions import waiting_requests
from cm_tracker.services.usecases import listings
from cm_tracker.staff.blueprint import bp


@bp.route("/")
def caseload() -> str:
    # The held lab results the viewer may review, and the patients' revocation requests waiting for staff: one
    # statement more each, whatever the caseload's size.
    return render_template("staff/caseload.html", board=listings.caseload(current_user, clinic_today()),
                           lab_waiting=lab_review.waiting_count(lab_result_scope(current_user)),
                           revocations_waiting=consents.pending_request_count(patient_scope(current_user)))


@bp.route("/patients/<int:patient_id>")
def patient(patient_id: int) -> str:
    record = get_patient_for(current_user, patient_id)
    today = clinic_today()
    desk = patient_desk(record, today)
    upcoming = patient_record.upcoming_visits(record.id, today, limit=10)
    return render_template(
        "staff/patient.html", patient=record, balance=balances.balance_of(record.id),
        entries=patient_record.latest_entries(record.id, limit=50), visits=upcoming,
        labels=patient_record.target_labels(e.program_id for e in record.enrollments),
        current=current_enrollment(record), desk=desk, requests=waiting_requests([record.id]).get(record.id, []),
        excused=visits.excused_visit_days([*desk.open_visits, *upcoming]),
        part2=consents.part2_summary(record.id, today),
    )
