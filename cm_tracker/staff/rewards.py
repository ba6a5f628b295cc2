"""The rewards desk: redeem vouchers, fulfil portal requests, draw from the bowl, hand over prizes, print receipts.

Routes hang on the staff blueprint (its guard lets admins and counselors in); every patient is loaded through
permissions.get_patient_for, with write=True for anything that changes the record. Each POST calls one service and
redirects (to the receipt after a hand-over); a refusal re-renders the desk with the message beside its field.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from cm_tracker.form_errors import show_errors
from cm_tracker.models import Draw, Patient, Redemption
from cm_tracker.permissions import get_patient_for, get_record_for
from cm_tracker.ratelimits import limit_password_attempts
from cm_tracker.services.core.errors import NotFound, ServiceError
from cm_tracker.services.queries import rewards_desk
from cm_tracker.services.queries.catalog import get_reward
from cm_tracker.services.usecases import draws, prizes, redemptions
from cm_tracker.staff.blueprint import bp
from cm_tracker.staff.rewards_forms import ConfirmForm, DrawForm, GroupHandOverForm, HandOverForm, RedeemForm


def _fail(form: FlaskForm, error: ServiceError, unnamed: str | None = None) -> None:
    """The desk shows a refusal above everything (staff/rewards/_failure.html), from the form's own errors; a
    refusal naming no field goes beside `unnamed` when given."""
    form.form_errors.extend(show_errors(form, error, unnamed=unnamed))


def _desk(patient: Patient, *, failed: str | None = None, form: FlaskForm | None = None, failed_id: int | str = 0,
          status: int = 200) -> tuple[str, int]:
    desk = rewards_desk.desk_for(patient)
    # One-time tokens: each voucher form and the draw form carry a fresh key, so a resent form writes nothing new.
    keys = {offer.item.reward.id: uuid.uuid4().hex for offer in desk.offers}
    return render_template("staff/rewards/desk.html", desk=desk, patient=patient, keys=keys, failed=failed,
                           failed_form=form, failed_id=failed_id, draw_form=form if failed == "draw" else DrawForm(),
                           draw_key=uuid.uuid4().hex, confirm_form=ConfirmForm()), status


@bp.get("/patients/<int:patient_id>/rewards")
def patient_rewards(patient_id: int) -> tuple[str, int]:
    return _desk(get_patient_for(current_user, patient_id))


@bp.post("/patients/<int:patient_id>/rewards/redeem")
def redeem(patient_id: int) -> Response | tuple[str, int]:
    patient = get_patient_for(current_user, patient_id, write=True)
    form = RedeemForm()
    if form.validate_on_submit():
        try:
            done = redemptions.redeem(patient, get_reward(form.reward_id.data or 0), form.quantity.data or 0,
                                      actor=current_user, idempotency_key=form.key.data or None)
            return redirect(url_for("staff.redemption_receipt", redemption_id=done.redemption.id, done=1))
        except ServiceError as exc:
            _fail(form, exc, unnamed="quantity")  # too few points or too little stock: the quantity's limit
    return _desk(patient, failed="redeem", form=form, failed_id=form.reward_id.data or 0, status=422)


@bp.post("/redemptions/<int:redemption_id>/fulfil")
def fulfil(redemption_id: int) -> Response | tuple[str, int]:
    patient, redemption = get_record_for(current_user, Redemption, redemption_id, write=True)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            redemptions.fulfil_redemption(redemption, current_user)
            return redirect(url_for("staff.redemption_receipt", redemption_id=redemption_id, done=1))
        except ServiceError as exc:
            _fail(form, exc)
    return _desk(patient, failed="request", form=form, failed_id=redemption_id, status=409)


@bp.post("/redemptions/<int:redemption_id>/cancel")
def cancel_request(redemption_id: int) -> Response | tuple[str, int]:
    patient, redemption = get_record_for(current_user, Redemption, redemption_id, write=True)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            redemptions.cancel_redemption(redemption, actor=current_user)
            flash("The request was cancelled; no points were spent.", "success")
            return redirect(url_for("staff.patient_rewards", patient_id=patient.id))
        except ServiceError as exc:
            _fail(form, exc)
    return _desk(patient, failed="request", form=form, failed_id=redemption_id, status=409)


@bp.post("/patients/<int:patient_id>/rewards/draw")
def draw(patient_id: int) -> Response | tuple[str, int]:
    patient = get_patient_for(current_user, patient_id, write=True)
    form = DrawForm()
    if form.validate_on_submit():
        try:
            done = draws.perform_draws(patient, form.count.data or 0, actor=current_user,
                                       idempotency_key=form.key.data or None)
            flash(rewards_desk.draw_summary(done.draws, replayed=done.replayed), "success")
            return redirect(url_for("staff.patient_rewards", patient_id=patient.id, _anchor="prizes-title"))
        except ServiceError as exc:
            _fail(form, exc)
    return _desk(patient, failed="draw", form=form, status=422)


@bp.post("/draws/<int:draw_id>/handover")
@limit_password_attempts("confirmer_username", only_when_given=True)
def hand_over(draw_id: int) -> Response | tuple[str, int]:
    patient, prize = get_record_for(current_user, Draw, draw_id, write=True)
    form = HandOverForm()
    if form.validate_on_submit():
        try:
            prizes.hand_over_confirmed(prize, get_reward(form.reward_id.data or 0), actor=current_user,
                                       confirmer=_credentials(form), confirmed=bool(form.confirm.data))
            return redirect(url_for("staff.prize_receipt", draw_id=draw_id, done=1))
        except ServiceError as exc:
            _fail(form, exc)
    form.confirmer_password.data = ""
    return _desk(patient, failed="handover", form=form, failed_id=draw_id, status=422)


@bp.post("/patients/<int:patient_id>/prizes/handover")
@limit_password_attempts("confirmer_username", only_when_given=True)
def hand_over_group(patient_id: int) -> Response | tuple[str, int]:
    patient = get_patient_for(current_user, patient_id, write=True)
    form = GroupHandOverForm()
    if form.validate_on_submit():
        try:
            handed = prizes.hand_over_group(patient, form.tier.data or "",
                                            get_reward(form.reward_id.data or 0), form.quantity.data or 0,
                                            actor=current_user, confirmer=_credentials(form),
                                            confirmed=bool(form.confirm.data))
            return _handed(patient, handed)
        except ServiceError as exc:
            _fail(form, exc)
    form.confirmer_password.data = ""
    return _desk(patient, failed="group", form=form, failed_id=form.tier.data or "", status=422)


def _credentials(form: HandOverForm) -> prizes.Credentials:
    return prizes.Credentials(form.confirmer_username.data or "", form.confirmer_password.data or "")


def _handed(patient: Patient, handed: list[Draw]) -> Response:
    """One prize: its receipt; several: the desk, which lists a receipt for each."""
    if len(handed) == 1:
        return redirect(url_for("staff.prize_receipt", draw_id=handed[0].id, done=1))
    flash(rewards_desk.handover_summary(handed), "success")
    return redirect(url_for("staff.patient_rewards", patient_id=patient.id, _anchor="receipts-title"))


@bp.get("/redemptions/<int:redemption_id>/receipt")
def redemption_receipt(redemption_id: int) -> str:
    patient, _ = get_record_for(current_user, Redemption, redemption_id)
    return _receipt(patient, lambda: rewards_desk.redemption_receipt(redemption_id))


@bp.get("/draws/<int:draw_id>/receipt")
def prize_receipt(draw_id: int) -> str:
    patient, _ = get_record_for(current_user, Draw, draw_id)
    return _receipt(patient, lambda: rewards_desk.prize_receipt(draw_id))


def _receipt(patient: Patient, build: Callable[[], rewards_desk.Receipt]) -> str:
    try:
        receipt = build()
    except NotFound:
        abort(404)
    return render_template("staff/rewards/receipt.html", receipt=receipt, patient=patient,
                           just_done=request.args.get("done") == "1")
