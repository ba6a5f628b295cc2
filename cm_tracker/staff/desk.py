"""Desk entry: one screen per visit (or an unscheduled specimen), then the result to tell the patient."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from cm_tracker.engine.outcomes import SpecimenStatus, Validity
from cm_tracker.form_errors import show_errors
from cm_tracker.models import AnalyteResult, Enrollment, Patient, ScheduledVisit, Specimen, TestMethod
from cm_tracker.permissions import get_patient_for, get_record_for
from cm_tracker.services.core.clinic import clinic_today, clinic_zone
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import NotFound, ServiceError
from cm_tracker.services.queries import desk
from cm_tracker.services.usecases.specimens import SpecimenInput, record_specimen, without_results_if_none
from cm_tracker.staff.blueprint import bp
from cm_tracker.staff.forms import SpecimenForm, clinic_moment, specimen_form, which_visit_choices, yes_no
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
        confirm_untested=bool(form.confirm_untested.data), visit_id=visit_id, accession=form.accession.data or None))


def _new_form(enrollment: Enrollment, visit: ScheduledVisit | None) -> SpecimenForm:
    now = utcnow().astimezone(clinic_zone())
    return specimen_form(desk.panel(enrollment.program), collected_on=visit.due_on if visit else now.date(),
                         collected_time=now.time().replace(second=0, microsecond=0))


@dataclass
class _Asked:
    """What the form is shown again with: the refusals, or the question of which visit a specimen is for."""

    problems: list[str] = field(default_factory=list)
    results_error: str | None = None
    question: desk.OtherDay | None = None


def _entry(patient: Patient, visit: ScheduledVisit | None) -> str | Response | tuple[str, int]:
    enrollment = visit.enrollment if visit else current_enrollment(patient)
    if enrollment is None:
        raise NotFound("This patient has no enrollment.")
    form = _new_form(enrollment, visit)
    taken = desk.visit_specimen(visit) if visit else None
    if visit is not None and taken is not None:  # Back after saving, a second tab: the form is stale
        return _already_recorded(patient, visit, form, taken)
    asked = _Asked()
    if form.validate_on_submit():
        done = _save(patient, visit, form)
        if not isinstance(done, _Asked):
            return done
        asked = done
    return render_template("staff/desk_entry.html", patient=patient, visit=visit, form=form,
                           problems=asked.problems, results_error=asked.results_error, question=asked.question,
                           program=enrollment.program, is_late=visit is not None and visit.due_on < clinic_today())


def _save(patient: Patient, visit: ScheduledVisit | None, form: SpecimenForm) -> Response | tuple[str, int] | _Asked:
    """Record the form's specimen; a visit's form with another date first asks which visit it is for."""
    question = desk.other_day(visit, form.collected_on.data) if visit else None
    if question is not None:
        form.belongs_to.choices = which_visit_choices(question, clinic_today())
        if form.belongs_to.data not in ("due", "by_date"):
            return _Asked(question=question)
    by_visit = visit is not None and (question is None or form.belongs_to.data == "due")
    try:
        recorded = record_specimen(patient, specimen_input(form, visit.id if visit and by_visit else None),
                                   actor=current_user)
    except ServiceError as exc:
        taken = desk.visit_specimen(visit) if visit and exc.code == "visit_recorded" else None
        if visit is not None and taken is not None:  # recorded by another desk a moment ago
            return _already_recorded(patient, visit, form, taken)
        problems, results_error = show_errors(form, exc, FIELD_NAMES), exc.fields.get("results")
        return _Asked([p for p in problems if p != results_error], results_error, question)
    return redirect(url_for("staff.specimen_result", patient_id=patient.id, specimen_id=recorded.specimen.id))


def _already_recorded(patient: Patient, visit: ScheduledVisit, form: SpecimenForm,
                      specimen: Specimen) -> tuple[str, int]:
    """The visit as recorded, beside what this stale form typed (kept, not saved): 409 for a form sent, 200 for a
    page opened; nothing is written either way."""
    sent = request.method == "POST"
    found = desk.already_recorded(specimen, form.typed_facts() if sent else {})
    html = render_template("staff/desk_entry.html", patient=patient, visit=visit, form=form, problems=[],
                           results_error=None, question=None, program=visit.enrollment.program, is_late=False,
                           recorded=found, sent=sent)
    return html, 409 if sent else 200


@bp.route("/patients/<int:patient_id>/visits/<int:visit_id>/record", methods=["GET", "POST"])
def record_visit(patient_id: int, visit_id: int) -> str | Response | tuple[str, int]:
    patient = get_patient_for(current_user, patient_id, write=True)
    return _entry(patient, desk.patient_test_visit(patient, visit_id))


@bp.route("/patients/<int:patient_id>/specimens/new", methods=["GET", "POST"])
def record_unscheduled(patient_id: int) -> str | Response | tuple[str, int]:
    patient = get_patient_for(current_user, patient_id, write=True)
    return _entry(patient, None)


@bp.route("/patients/<int:patient_id>/specimens/<int:specimen_id>")
def specimen_result(patient_id: int, specimen_id: int) -> str:
    patient, specimen = get_record_for(current_user, Specimen, specimen_id, patient_id=patient_id)
    result = desk.desk_result(patient, specimen)
    return render_template("staff/desk_result.html", patient=patient, result=result)
