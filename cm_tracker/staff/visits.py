"""Missed and excused visits at the desk: excusing a patient's day, and recording a clinic closure (admins)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from cm_tracker.form_errors import show_errors
from cm_tracker.permissions import can_manage_closures, get_patient_for
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.errors import ServiceError
from cm_tracker.services.queries import visits as visits_reads
from cm_tracker.services.usecases import visits
from cm_tracker.staff.blueprint import bp
from cm_tracker.staff.forms import ClosureForm, ExcuseForm


def _said(done: visits.ExcuseResult, what: str) -> str:
    if not done.corrected:
        return f"{what} No visit needed correcting."
    return (f"{what} {done.corrected} missed record(s) corrected to excused; "
            f"{len(done.adjustments)} adjustment(s) posted.")


@bp.route("/patients/<int:patient_id>/excuses/new", methods=["GET", "POST"])
def excuse(patient_id: int) -> str | Response:
    patient = get_patient_for(current_user, patient_id, write=True)
    form, problems = ExcuseForm(on=clinic_today()), []
    if form.validate_on_submit():
        try:
            done = visits.excuse_day(patient, on=form.on.data, reason=form.reason.data or "", actor=current_user)
        except ServiceError as exc:
            problems = show_errors(form, exc)
        else:
            flash(_said(done, f"{patient.display_name} is excused on {form.on.data:%a %d %b %Y}."), "success")
            return redirect(url_for("staff.patient", patient_id=patient.id))
    return render_template("staff/excuse.html", patient=patient, form=form, problems=problems)


@bp.route("/closures", methods=["GET", "POST"])
def closures() -> str | Response:
    if not can_manage_closures(current_user):
        abort(403)
    form, problems = ClosureForm(), []
    if form.validate_on_submit():
        try:
            done = visits.close_clinic(on=form.on.data, reason=form.reason.data or "", actor=current_user)
        except ServiceError as exc:
            problems = show_errors(form, exc)
        else:
            flash(_said(done, f"The clinic is recorded as closed on {form.on.data:%a %d %b %Y}."), "success")
            return redirect(url_for("staff.closures"))
    return render_template("staff/closures.html", form=form, problems=problems, closures=visits_reads.recent_closures())
