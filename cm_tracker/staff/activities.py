"""Goal activities at the desk: the week's contract, evidence, and verification or rejection by staff."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from cm_tracker.form_errors import show_errors
from cm_tracker.models import GoalActivity
from cm_tracker.permissions import get_patient_for, get_record_for
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import ServiceError
from cm_tracker.services.queries import activities as activities_reads
from cm_tracker.services.usecases import activities
from cm_tracker.staff.blueprint import bp
from cm_tracker.staff.forms import ActivityDecisionForm, ActivityForm
from cm_tracker.timeutil import utcnow

DECISIONS = ("evidence", "verify", "reject")


@bp.route("/patients/<int:patient_id>/activities", methods=["GET", "POST"])
def activities_page(patient_id: int) -> str | Response:
    patient = get_patient_for(current_user, patient_id, write=True)
    enrollment = current_enrollment(patient)
    targets = activities_reads.activity_targets(enrollment) if enrollment else []
    form, problems = ActivityForm(week_of=activities_reads.default_week()), []
    form.target.choices = [SelectChoice(key, label) for key, label in targets]
    if form.validate_on_submit():
        try:
            activities.propose_activity(patient, target_key=form.target.data or "", week_of=form.week_of.data,
                                        description=form.description.data or "",
                                        verification=form.verification.data or "", actor=current_user)
        except ServiceError as exc:
            problems = show_errors(form, exc)
        else:
            flash("The activity is added to the week's contract.", "success")
            return redirect(url_for("staff.activities_page", patient_id=patient.id))
    return render_template("staff/activities.html", patient=patient, form=form, problems=problems, targets=targets,
                           items=activities_reads.activities_of(patient), decision=ActivityDecisionForm())


@bp.route("/patients/<int:patient_id>/activities/<int:activity_id>/<action>", methods=["POST"])
def decide_activity(patient_id: int, activity_id: int, action: str) -> Response:
    patient, activity = get_record_for(current_user, GoalActivity, activity_id, patient_id=patient_id, write=True)
    if action not in DECISIONS:
        abort(404)
    form = ActivityDecisionForm()
    if not form.validate_on_submit():
        flash("The form was incomplete or expired; please try again.", "error")
        return redirect(url_for("staff.activities_page", patient_id=patient.id))
    try:
        message = _decide(activity, action, form)
    except ServiceError as exc:
        flash(" ".join([exc.message, *exc.fields.values()]), "error")
    else:
        flash(message, "success")
    return redirect(url_for("staff.activities_page", patient_id=patient.id))


def _decide(activity: GoalActivity, action: str, form: ActivityDecisionForm) -> str:
    version, note = form.version.data or 0, form.note.data or ""
    if action == "evidence":
        activities.submit_evidence(activity, version=version, evidence_note=note, actor=current_user)
        return "The evidence is noted; the activity awaits verification."
    if action == "reject":
        activities.reject_activity(activity, version=version, reason=note, actor=current_user)
        return "The activity is rejected: it earns nothing and resets nothing."
    done = activities.verify_activity(activity, version=version, occurred_at=utcnow(), note=note, actor=current_user)
    return "Verified. " + ("; ".join(e.reason for e in done.awards) or "No award for this activity.")
