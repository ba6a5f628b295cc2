"""Editing a patient at the desk: the name and (admins) the caseload, and the visit days from a chosen date on.

Two forms on one page; a hidden `form` field says which one was sent, and the other is drawn from the record as it
is, so that what was typed in one is kept when it is refused and the other is not emptied.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from cm_tracker.form_errors import show_errors
from cm_tracker.models import Enrollment, EnrollmentStatus, Patient
from cm_tracker.permissions import can_change_caseload, get_patient_for
from cm_tracker.services.core import visit_calendar
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import Conflict, ServiceError
from cm_tracker.services.queries import patients as patients_reads
from cm_tracker.services.usecases import patients, visit_schedule
from cm_tracker.staff.blueprint import bp
from cm_tracker.staff.forms import WEEKDAY_CHOICES, PatientDetailsForm, VisitDaysForm, visit_days_form
from cm_tracker.template_helpers import day
from cm_tracker.validation import is_decimal

DAYS_FIELDS = {"from": "from_on"}
STALE = " What you typed is kept below: check the record as it is now, then send it again to apply your change."


@bp.route("/patients/<int:patient_id>/edit", methods=["GET", "POST"])
def edit_patient(patient_id: int) -> str | Response:
    patient = get_patient_for(current_user, patient_id, write=True)
    enrollment = current_enrollment(patient)
    active = enrollment if enrollment is not None and enrollment.status == EnrollmentStatus.ACTIVE else None
    sent = request.form.get("form") if request.method == "POST" else None
    details, days = _details_form(patient, sent == "details"), _days_form(patient, active, sent == "days")
    problems: list[str] = []
    try:
        if sent == "details" and details.validate_on_submit():
            return _save_details(patient, details)
        if sent == "days" and active is not None and days.validate_on_submit():
            return _save_days(patient, days, active)
    except ServiceError as exc:
        problems = _problems(details, exc, patient) if sent == "details" else \
            _problems(days, exc, patient, DAYS_FIELDS | _plan_names(days))
    return render_template("staff/patient_edit.html", patient=patient, enrollment=active, details=details,
                           days=days, sent=sent, problems=problems, choose_counselor=can_change_caseload(current_user),
                           last_day=visit_calendar.last_programme_day(active, active.program) if active else None,
                           plan=_plan(active), fixed_weeks=_fixed_weeks(active))


def _problems(form: PatientDetailsForm | VisitDaysForm, exc: ServiceError, patient: Patient,
              names: dict[str, str] | None = None) -> list[str]:
    if not isinstance(exc, Conflict):
        return show_errors(form, exc, names)
    # The fresh version (the service rolled back, so the record reloads), over the one that was posted.
    form.version.data, form.version.raw_data = patient.version, [str(patient.version)]
    return [exc.message + (STALE if exc.code == "stale_version" else "")]


def _details_form(patient: Patient, posted: bool) -> PatientDetailsForm:
    if posted:
        form = PatientDetailsForm(prefix="details")
    else:
        form = PatientDetailsForm(formdata=None, prefix="details", version=patient.version,
                                  display_name=patient.display_name, counselor_id=str(patient.counselor_id or ""))
    _, counselors = patients_reads.enrolment_choices()
    options = [SelectChoice("", "Nobody yet"), *(SelectChoice(str(i), n) for i, n in counselors)]
    if patient.counselor is not None and all(i != patient.counselor_id for i, _ in counselors):
        options.append(SelectChoice(str(patient.counselor_id), f"{patient.counselor.display_name} (disabled)"))
    form.counselor_id.choices = options
    return form


def _plan(enrollment: Enrollment | None) -> list[dict[str, Any]]:
    return (visit_calendar.patient_plan(enrollment, enrollment.program) or []) if enrollment else []


def _fixed_weeks(enrollment: Enrollment | None) -> bool:
    return enrollment is not None and visit_calendar.has_fixed_weeks(_plan(enrollment), enrollment.program.weeks)


def _days_form(patient: Patient, enrollment: Enrollment | None, posted: bool) -> VisitDaysForm:
    """The fixed days, and a group of days for each stretch of the visit plan not over yet (those can change)."""
    parts = visit_calendar.stretches_to_come(_plan(enrollment), enrollment.start_on, clinic_today()) \
        if enrollment else []
    if posted:
        return visit_days_form(parts, prefix="days")
    current = list(enrollment.visit_days or enrollment.program.visit_days) if enrollment else []
    return visit_days_form(parts, formdata=None, prefix="days", version=patient.version, visit_days=current,
                           from_on=clinic_today())


def _plan_names(form: VisitDaysForm) -> dict[str, str]:
    """The service's "visit_plan.<i>" errors beside the i-th group of plan days."""
    return {f"visit_plan.{i}{end}": name for i, name in enumerate(form.plan_fields) for end in ("", ".days")}


def _save_details(patient: Patient, form: PatientDetailsForm) -> Response:
    changes: dict[str, Any] = {"display_name": form.display_name.data or ""}
    if can_change_caseload(current_user):
        chosen = form.counselor_id.data or ""
        counselor = int(chosen) if is_decimal(chosen) else None
        if counselor != patient.counselor_id:  # only a real move: an unchanged (even disabled) counselor stays
            changes["counselor_id"] = counselor
    patients.update_patient(patient, version=form.version.data or 0, changes=changes, actor=current_user)
    flash(f"{patient.display_name}'s record is saved.", "success")
    return redirect(url_for("staff.patient", patient_id=patient.id))


def _save_days(patient: Patient, form: VisitDaysForm, enrollment: Enrollment) -> Response:
    """The fixed days only when some week follows them, and the plan's stretches shown (the past ones keep theirs)."""
    parts = visit_calendar.stretches_to_come(_plan(enrollment), enrollment.start_on, clinic_today())
    chosen = [{"from_week": p["from_week"], "to_week": p["to_week"], "days": field.data or []}
              for p, field in zip(parts, form.plan_days(), strict=True)]
    done = visit_schedule.change_visit_days(
        patient, visit_days=(form.visit_days.data or []) if _fixed_weeks(enrollment) else None,
        visit_plan=chosen or None, from_on=form.from_on.data, version=form.version.data or 0, actor=current_user,
        today=clinic_today())
    flash(_said(done, form), "success")
    return redirect(url_for("staff.patient", patient_id=patient.id))


def _said(done: visit_schedule.DaysChanged, form: VisitDaysForm) -> str:
    enrollment = done.enrollment
    names = ", ".join(c.label for c in WEEKDAY_CHOICES if c.value in enrollment.visit_days)
    plan = visit_calendar.patient_plan(enrollment, enrollment.program)
    days = names if not plan else visit_calendar.plan_words(plan) + \
        (f"; other weeks {names}" if _fixed_weeks(enrollment) else "")
    dates = list(dict.fromkeys(day(v.due_on) for v in done.upcoming))
    coming = f" Next visits: {'; '.join(dates)}." if dates else " No visit is left in the programme."
    visits = "visit" if done.removed == 1 else "visits"
    return (f"Visit days are now {days}, from {day(form.from_on.data)} ({done.removed} {visits} removed, "
            f"{done.added} added).{coming}")
