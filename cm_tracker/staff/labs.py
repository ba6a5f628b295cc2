"""The review queue of held lab results (/staff/labs/review): staff match a result to a patient, apply it again
once its code is in the map, or dismiss it with a reason. Each action says what it did and goes back to the queue;
a result someone else resolved meanwhile (a second tab, a double click) gets a plain message, never an error page.

Who sees which result is permissions.lab_result_scope / get_lab_result_for (a counselor: their own patients').
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from cm_tracker.form_errors import show_errors
from cm_tracker.models import LabAction, LabResult, Patient, ReviewStatus
from cm_tracker.permissions import can_review_lab_results, get_lab_result_for, get_patient_for, lab_result_scope
from cm_tracker.services.core.errors import Conflict, ServiceError
from cm_tracker.services.queries import lab_review as lab_review_reads
from cm_tracker.services.usecases import lab_review, lab_views, patients
from cm_tracker.services.usecases.lab_results import LabResultOutcome
from cm_tracker.staff.lab_blueprint import bp, require
from cm_tracker.staff.lab_forms import ApplyForm, DismissForm, MatchForm, PatientSearchForm
from cm_tracker.validation import is_decimal, is_row_id

SEARCH_LIMIT = 20
DONE = {
    LabAction.CREATED: "specimen created", LabAction.COMPLETED: "the pending specimen completed",
    LabAction.CORRECTED: "specimen corrected", LabAction.UNCHANGED: "nothing new (the specimen had these results)",
    LabAction.WITHDRAWN: "the lab's result withdrawn",
}


@bp.get("/review")
def review() -> str:
    require(can_review_lab_results(current_user))
    return _queue_page()


@bp.route("/review/<int:result_id>/match", methods=["GET"])
def match_page(result_id: int) -> str | Response:
    result = get_lab_result_for(current_user, result_id)
    if result.review_status != ReviewStatus.WAITING:
        return _gone(result)
    search = PatientSearchForm(request.args)
    query = (search.q.data if "q" in request.args else result.record_number) or ""
    search.q.data = query
    found = patients.search_patients(current_user, query, 1, SEARCH_LIMIT)[0] if query.strip() else []
    chosen = request.args.get("patient_id", "")
    picked = get_patient_for(current_user, int(chosen)) if is_decimal(chosen) and is_row_id(int(chosen)) else None
    return render_template("staff/labs/match.html", held=lab_views.held_result(current_user, result), search=search,
                           found=found, picked=picked, form=MatchForm(formdata=None, patient_id=picked.id if picked
                                                                        else ""), query=query)


@bp.post("/review/<int:result_id>/match")
def match(result_id: int) -> Response:
    result = get_lab_result_for(current_user, result_id)
    form = MatchForm()
    chosen = form.patient_id.data or ""
    if not form.validate_on_submit() or not (is_decimal(chosen) and is_row_id(int(chosen))):
        flash("Choose the patient this result belongs to, then confirm.", "error")
        return redirect(url_for("labs.match_page", result_id=result.id))
    patient = get_patient_for(current_user, int(chosen))
    try:
        outcome = lab_review.match_to_patient(result, patient, actor=current_user)
    except ServiceError as exc:
        return _refused(exc, result)
    flash(_said(outcome, patient), "success" if outcome.action != LabAction.HELD else "error")
    return redirect(url_for("labs.review"))


@bp.post("/review/<int:result_id>/apply")
def apply_again(result_id: int) -> Response:
    result = get_lab_result_for(current_user, result_id)
    if not ApplyForm().validate_on_submit():
        flash("This form was open too long or came from elsewhere. Please send it again.", "error")
        return redirect(url_for("labs.review"))
    try:
        outcome = lab_review.apply_again(result, actor=current_user)
    except ServiceError as exc:
        return _refused(exc, result)
    flash(_said(outcome, lab_review_reads.patient_of(outcome.patient_id)),
          "success" if outcome.action != LabAction.HELD else "error")
    return redirect(url_for("labs.review"))


@bp.post("/review/<int:result_id>/dismiss")
def dismiss(result_id: int) -> str | tuple[str, int] | Response:
    result = get_lab_result_for(current_user, result_id)
    form = DismissForm(prefix=f"dismiss-{result.id}")
    if form.validate_on_submit():
        try:
            lab_review.dismiss(result, form.reason.data or "", actor=current_user)
            flash(f"Dismissed the result of accession {result.accession}: {(form.reason.data or '').strip()}",
                  "success")
            return redirect(url_for("labs.review"))
        except Conflict as exc:
            return _refused(exc, result)
        except ServiceError as exc:  # the reason refused: beside the field, with what was typed
            for problem in show_errors(form, exc, unnamed="reason"):
                flash(problem, "error")
    return _queue_page({result.id: form}), 422


def _queue_page(dismiss_forms: dict[int, DismissForm] | None = None) -> str:
    """The queue with a dismiss form per result; a refused one keeps what was typed, with its error beside it."""
    code = (request.args.get("code") or "").strip()[:16]
    page = request.args.get("page", 1, type=int) or 1
    queue, recent = lab_views.review_queue(current_user, lab_result_scope(current_user), page=page, code=code)
    forms = {r.result.id: DismissForm(formdata=None, prefix=f"dismiss-{r.result.id}") for r in queue.rows}
    forms.update(dismiss_forms or {})
    return render_template("staff/labs/review.html", queue=queue, recent=recent, dismiss_forms=forms,
                           apply_form=ApplyForm())


def _said(outcome: LabResultOutcome, patient: Patient | None) -> str:
    """What an action did, in the words the queue shows: "Applied to Pat Patient (MRN-001): specimen created,
    2 awards." A result still held says why."""
    if outcome.action == LabAction.HELD:
        return f"Still held: {outcome.reason}" if outcome.reason else "Still held for review."
    who = f"{patient.display_name} ({patient.record_number})" if patient else "the patient"
    parts = [DONE.get(outcome.action, str(outcome.action))]
    for name in ("awards", "adjustments"):
        count = _count(getattr(outcome, name, None))
        if count:
            parts.append(f"{count} {name[:-1] if count == 1 else name}")
    return f"Applied to {who}: {', '.join(parts)}."


def _count(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return len(value) if isinstance(value, list | tuple) else 0


def _refused(exc: ServiceError, result: LabResult) -> Response:
    """A refusal from the queue's actions: a result no longer waiting says so, and the queue is shown again."""
    if isinstance(exc, Conflict) and exc.code == "not_waiting":
        return _gone(result, exc.message)
    flash(exc.message, "error")
    return redirect(url_for("labs.review"))


def _gone(result: LabResult, message: str | None = None) -> Response:
    flash(message or lab_review_reads.no_longer_waiting(result), "info")
    return redirect(url_for("labs.review"))
