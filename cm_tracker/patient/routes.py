"""The patient portal. URLs carry no patient id: the patient is always the signed-in account's own record.

Every page is a plain server-rendered form or list (no JavaScript needed), in the patient's language, and every
read is audited as a view of the patient's own record.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from cm_tracker.models import Patient, RedemptionStatus, Role, User
from cm_tracker.patient import charts, consent_wording, wording
from cm_tracker.patient.forms import CancelForm, LanguageForm, RequestForm, WithdrawForm
from cm_tracker.security import guard_blueprint, safe_next
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.errors import Conflict, NotFound, ServiceError, ValidationFailed
from cm_tracker.services.queries import portal as portal_reads
from cm_tracker.services.queries import portal_history
from cm_tracker.services.queries.consents import ConsentView
from cm_tracker.services.usecases import consents, portal, redemptions, revocation_requests

RECENT = 5  # history lines on the home page
HISTORY_PAGE = 25  # history lines per page: a long episode stays quick to load on an old phone
bp = Blueprint("patient", __name__)
guard_blueprint(bp, {Role.PATIENT})


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _linked() -> Patient:
    """The account's own patient record; an account not linked to one has nothing to act on."""
    patient = current_user.patient
    if patient is None:
        abort(404)
    return patient


def page(name: str, *, audited: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A portal page: hands the view the patient's own record and audits the read (unless `audited` is False: the
    Part 2 pages, whose use cases audit what they read)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            patient = current_user.patient
            if patient is None:
                return render_template("patient/unlinked.html")
            if audited:
                portal.view(_me(), patient, name)
            return view(patient, *args, **kwargs)

        return wrapper

    return decorate


@bp.context_processor
def _portal_helpers() -> dict[str, Any]:
    return {"words": wording, "consent_words": consent_wording,
            "language_form": LanguageForm(next=request.full_path.rstrip("?"))}


@bp.route("/")
@page("home")
def home(patient: Patient) -> str:
    return render_template("patient/home.html", home=portal_reads.home(patient, clinic_today()),
                           recent=portal_history.recent(patient, RECENT))


@bp.route("/progress")
@page("progress")
def progress(patient: Patient) -> str:
    weeks = portal_history.weeks(patient, clinic_today())
    in_draws = any(w.draws for w in weeks) and not any(w.points for w in weeks)
    return render_template("patient/progress.html", weeks=weeks, in_draws=in_draws,
                           results=charts.results_chart(weeks), earned=charts.earnings_chart(weeks, in_draws))


@bp.route("/history")
@page("history")
def history(patient: Patient) -> str:
    # Only the page's lines are built; an odd ?page= shows the nearest page.
    shown = portal_history.history_page(patient, request.args.get("page", 1, type=int), HISTORY_PAGE)
    return render_template("patient/history.html", lines=shown.lines, page=shown.page, pages=shown.pages)


@bp.route("/rewards")
@page("rewards")
def rewards(patient: Patient) -> str:
    return _rewards_page(patient)


def _rewards_page(patient: Patient, form: RequestForm | None = None, error: ServiceError | None = None,
                  status: int = 200) -> Any:
    shelf = portal_reads.shelf(patient)
    failed_id = form.reward_id.data if form else None
    problem = wording.request_problem(error, shelf, failed_id) if error else ""
    return render_template("patient/rewards.html", shelf=shelf, form=form, problem=problem, failed_id=failed_id,
                           cancel_form=CancelForm()), status


@bp.post("/rewards/request")
def request_reward() -> Any:
    patient = _linked()
    form = RequestForm()
    if not form.validate_on_submit():
        return _rewards_page(patient, form, status=422)
    try:
        reward = portal_reads.offer_for(patient, form.reward_id.data)
        redemptions.request_redemption(patient, reward, form.quantity.data, actor=_me())
    except ServiceError as exc:
        return _rewards_page(patient, form, exc, status=exc.status)
    flash(_("Your request for %(item)s is waiting at the desk. Staff will hand it over at your next visit.",
            item=wording.reward_name(reward)), "success")
    return redirect(url_for("patient.rewards", _anchor="requests"))


@bp.post("/requests/<int:redemption_id>/cancel")
def cancel_request(redemption_id: int) -> Response:
    patient = _linked()
    if not CancelForm().validate_on_submit():
        abort(400)
    try:
        redemption = portal.own_redemption(_me(), patient, redemption_id)
        redemptions.cancel_redemption(redemption, actor=_me())
    except NotFound:
        abort(404)
    except Conflict:
        flash(_("This request was already handed over or cancelled."), "error")
    else:
        flash(_("Your request for %(item)s is cancelled.", item=wording.reward_name(redemption.reward)), "success")
    return redirect(url_for("patient.rewards", _anchor="requests"))


@bp.route("/receipts")
@page("receipts")
def receipts(patient: Patient) -> str:
    return render_template("patient/receipts.html", receipts=portal_reads.receipts(patient))


@bp.route("/receipts/<int:redemption_id>")
@page("receipt")
def receipt(patient: Patient, redemption_id: int) -> str:
    try:
        redemption = portal.own_redemption(_me(), patient, redemption_id)
    except NotFound:
        abort(404)
    if redemption.status != RedemptionStatus.FULFILLED:
        abort(404)
    return render_template("patient/receipt.html", redemption=redemption, program=portal_reads.program_of(patient))


@bp.post("/language")
def language() -> Response:
    form = LanguageForm()
    if form.validate_on_submit():
        portal.choose_language(_me(), form.language.data)
    target = safe_next(form.next.data)
    return redirect(target if target and target.startswith("/portal/") else url_for("patient.home"))


@bp.route("/privacy")
@page("privacy", audited=False)
def privacy(patient: Patient) -> str:
    found = consents.read_consents(patient, user=_me(), via="portal")
    window, disclosures = consents.read_disclosures(patient, user=_me(), via="portal")
    return render_template("patient/privacy.html", consents=found, window=window, disclosures=disclosures,
                           by_id={v.consent.id: v for v in found})


def _own_consent(patient: Patient, consent_id: int) -> ConsentView:
    try:
        return revocation_requests.consent_to_withdraw(patient, consent_id, user=_me())
    except NotFound:
        abort(404)


def _withdraw_page(view: ConsentView, form: WithdrawForm, status: int = 200) -> Any:
    refused = revocation_requests.refusal(view)
    problem = consent_wording.withdrawal_problem(refused.code, view) if refused else ""
    return render_template("patient/withdraw.html", view=view, form=form, problem=problem), status


@bp.get("/privacy/consents/<int:consent_id>/withdraw")
@page("withdraw", audited=False)
def withdraw_consent(patient: Patient, consent_id: int) -> Any:
    """What withdrawing means, and the button; once asked (a second tab, Back), the plain answer instead."""
    return _withdraw_page(_own_consent(patient, consent_id), WithdrawForm())


@bp.post("/privacy/consents/<int:consent_id>/withdraw")
def request_withdrawal(consent_id: int) -> Any:
    patient = _linked()
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _withdraw_page(_own_consent(patient, consent_id), form, status=422)
    try:
        revocation_requests.request_revocation(patient, consent_id, form.note.data or "", actor=_me())
    except NotFound:
        abort(404)
    except ValidationFailed as exc:  # the form checks the same; kept beside the field should they ever differ
        form.note.errors = [_("Your note could not be saved. Please make it shorter, or type it again.")]
        return _withdraw_page(_own_consent(patient, consent_id), form, status=exc.status)
    except Conflict as exc:
        flash(consent_wording.withdrawal_problem(exc.code, _own_consent(patient, consent_id)), "info")
    else:
        flash(_("Your request is sent. From today the clinic will not share your records under this consent; "
                "staff will confirm it with you."), "success")
    return redirect(url_for("patient.privacy", _anchor=f"consent-{consent_id}"))
