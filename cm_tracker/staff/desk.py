"""Desk entry: one screen per visit (or an unscheduled specimen), then the result to tell the patient."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from cm_tracker.engine.outcomes import SpecimenStatus, Validity
from cm_tracker.form_errors import show_errors
from cm_tracker.models import AnalyteResult, Patient, ScheduledVisit, Specimen, TestMethod
from cm_tracker.permissions import get_patient_for, get_record_for
from cm_tracker.services.core.clinic import clinic_today, clinic_zone
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import NotFound, ServiceError
from cm_tracker.services.queries import desk
from cm_tracker.services.usecases.specimens import SpecimenInput, record_specimen, without_results_if_none
from cm_tracker.staff.blueprint import bp
from cm_tracker.staff.forms import SpecimenForm, clinic_moment, specimen_form, yes_no
from cm_tracker.timeutil import utcnow

FIELD_NAMES = {"collected_at": "collected_on"}


def specimen_input(form: SpecimenForm, visit_id: int | None) -> SpecimenInput:
    """The typed values as the service's input (shape only: the service judges them). Result radios chosen before
    missed, excused or refused cannot be cleared without JavaScript, so they are dropped, not refused."""
    moment = clinic_moment(form.collected_on.data, form.collected_time.data) or utcnow()
    return without_results_if_none(SpecimenInput(
        collected_at=moment, status=SpecimenStatus(form.status.data or "final"),
        results={a: AnalyteResult(v) for a, v in form.results().items()},
        validity=Validity(form.validity.data) if form.validity.data else None,
        temperature_ok=yes_no(form.temperature_ok.data), observed=yes_no(form.observed.data),
        method=TestMethod(form.method.data) if form.method.data else None, note=form.note.data or "",
        confirm_untested=bool(form.confirm_untested.data), visit_id=visit_id))


def _entry(patient: Patient, visit: ScheduledVisit | None) -> str | Response:
    enrollment = visit.enrollment if visit else current_enrollment(patient)
    if enrollment is None:
        raise NotFound("This patient has no enrollment.")
    now = utcnow().astimezone(clinic_zone())
    day = visit.due_on if visit else now.date()
    form = specimen_form(desk.panel(enrollment.program), collected_on=day, collected_time=now.time().replace(
        second=0, microsecond=0))
    problems: list[str] = []
    results_error = None
    if form.validate_on_submit():
        try:
            recorded = record_specimen(patient, specimen_input(form, visit.id if visit else None),
                                       actor=current_user)
        except ServiceError as exc:
            problems, results_error = show_errors(form, exc, FIELD_NAMES), exc.fields.get("results")
        else:
            return redirect(url_for("staff.specimen_result", patient_id=patient.id,
                                    specimen_id=recorded.specimen.id))
    return render_template("staff/desk_entry.html", patient=patient, visit=visit, form=form, problems=problems,
                           results_error=results_error,
                           program=enrollment.program, is_late=visit is not None and day < clinic_today())


@bp.route("/patients/<int:patient_id>/visits/<int:visit_id>/record", methods=["GET", "POST"])
def record_visit(patient_id: int, visit_id: int) -> str | Response:
    patient = get_patient_for(current_user, patient_id, write=True)
    return _entry(patient, desk.open_test_visit(patient, visit_id))


@bp.route("/patients/<int:patient_id>/specimens/new", methods=["GET", "POST"])
def record_unscheduled(patient_id: int) -> str | Response:
    patient = get_patient_for(current_user, patient_id, write=True)
    return _entry(patient, None)


@bp.route("/patients/<int:patient_id>/specimens/<int:specimen_id>")
def specimen_result(patient_id: int, specimen_id: int) -> str:
    patient, specimen = get_record_for(current_user, Specimen, specimen_id, patient_id=patient_id)
    result = desk.desk_result(patient, specimen)
    return render_template("staff/desk_result.html", patient=patient, result=result)
