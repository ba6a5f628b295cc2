"""Enrolment pages: admitting a patient (with visits and an optional portal account) and ending an episode."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from cm_tracker.form_errors import show_errors
from cm_tracker.models import Role
from cm_tracker.permissions import get_patient_for
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import NotFound, ServiceError
from cm_tracker.services.queries import patients
from cm_tracker.services.usecases import admission
from cm_tracker.staff.blueprint import bp
from cm_tracker.staff.forms import EndEnrollmentForm, EnrolForm
from cm_tracker.validation import is_decimal

ENROL_FIELDS = {"start_date": "start_date", "program_id": "program_id", "counselor_id": "counselor_id"}


def _enrol_form() -> EnrolForm:
    form = EnrolForm(start_date=clinic_today())
    programs, counselors = patients.enrolment_choices()
    form.program_id.choices = [SelectChoice(0, "Choose a programme"), *(SelectChoice(i, n) for i, n in programs)]
    form.counselor_id.choices = [SelectChoice("", "Nobody yet"), *(SelectChoice(str(i), n) for i, n in counselors)]
    return form


@bp.route("/patients/new", methods=["GET", "POST"])
def enrol() -> str:
    form, problems, done = _enrol_form(), [], None
    if form.validate_on_submit():
        counselor = int(form.counselor_id.data) if is_decimal(form.counselor_id.data or "") else None
        try:
            done = admission.enrol(
                display_name=form.display_name.data or "", record_number=form.record_number.data or "",
                program_id=form.program_id.data or 0, start_on=form.start_date.data, visit_days=form.visit_days.data,
                counselor_id=counselor if current_user.role == Role.ADMIN else None,
                portal_username=form.portal_username.data, actor=current_user)
        except ServiceError as exc:
            problems = show_errors(form, exc, ENROL_FIELDS)
    if done is not None:  # rendered, not redirected: the temporary password is shown this once only
        return render_template("staff/enrolled.html", enrolled=done)
    return render_template("staff/enrol.html", form=form, problems=problems,
                           choose_counselor=current_user.role == Role.ADMIN)


@bp.route("/patients/<int:patient_id>/enrollment/end", methods=["GET", "POST"])
def end_enrollment(patient_id: int) -> str | Response:
    patient = get_patient_for(current_user, patient_id, write=True)
    current = current_enrollment(patient)
    if current is None:
        raise NotFound("No enrollment.")
    form, problems = EndEnrollmentForm(on=clinic_today()), []
    if form.validate_on_submit():
        try:
            admission.end_enrollment(current, form.status.data or "", form.on.data, form.reason.data or "",
                                     actor=current_user)
        except ServiceError as exc:
            problems = show_errors(form, exc)
        else:
            flash(f"The enrollment is {form.status.data} as of {form.on.data:%d %b %Y}.", "success")
            return redirect(url_for("staff.patient", patient_id=patient.id))
    return render_template("staff/end_enrollment.html", patient=patient, enrollment=current, form=form,
                           problems=problems)
