"""Catalog and prize cabinet pages: all staff read them (counselors serve patients from them); admins and managers
add and edit items, restock, count stock and post manual adjustments."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from cm_tracker.catalog.forms import AdjustmentForm, CountForm, HandoverLimitForm, RestockForm, RewardForm
from cm_tracker.catalog.views import fail, index_page, item_page, reward_input
from cm_tracker.models import Reward
from cm_tracker.money import plain_dollars
from cm_tracker.permissions import STAFF_ROLES, can_adjust_manually, can_manage_catalog, get_patient_for
from cm_tracker.security import guard_blueprint
from cm_tracker.services.core import audit
from cm_tracker.services.core.errors import NotFound, ServiceError
from cm_tracker.services.queries import adjustments as adjustments_reads
from cm_tracker.services.queries import catalog as catalog_reads
from cm_tracker.services.queries import prizes as prizes_reads
from cm_tracker.services.usecases import adjustments, catalog, listings, prizes
from cm_tracker.services.usecases.access_log import log_now

bp = Blueprint("catalog", __name__)
guard_blueprint(bp, STAFF_ROLES)


def _require(allowed: bool) -> None:
    """Inside the staff-wide guard: the managing routes are for admins and managers only (403, audited)."""
    if not allowed:
        log_now("page.denied", outcome=audit.DENIED, object_type="endpoint", object_id=request.endpoint)
        abort(403)


def _reward(reward_id: int) -> Reward:
    try:
        return catalog_reads.get_reward(reward_id)
    except NotFound:
        abort(404)


@bp.get("/")
def index() -> tuple[str, int]:
    return index_page()


@bp.post("/programmes/<int:program_id>/handover-confirmation")
def handover_confirmation(program_id: int) -> Response | tuple[str, int]:
    _require(can_manage_catalog(current_user))
    try:
        program = prizes_reads.get_prize_programme(program_id)
    except NotFound:
        abort(404)
    form = HandoverLimitForm()
    if form.validate_on_submit():
        try:
            prizes.set_confirmation_limit(program, form.above_dollars.cents, actor=current_user)
            flash(f"Saved the hand-over confirmation of {program.name}.", "success")
            return redirect(url_for("catalog.index", _anchor=f"handover-{program.id}"))
        except ServiceError as exc:
            fail(form, exc)
    return index_page(form, program.id, 422)


@bp.route("/rewards/new", methods=["GET", "POST"])
def new_reward() -> Response | str:
    _require(can_manage_catalog(current_user))
    form = RewardForm()
    form.set_programs(catalog_reads.programs_for_choice())
    if form.validate_on_submit():
        try:
            reward = catalog.create_reward(reward_input(form), opening_stock=form.opening_stock.data,
                                           actor=current_user)
            flash(f"{reward.name} was added.", "success")
            return redirect(url_for("catalog.reward", reward_id=reward.id))
        except ServiceError as exc:
            fail(form, exc)
    return render_template("catalog/edit.html", form=form, reward=None)


@bp.get("/rewards/<int:reward_id>")
def reward(reward_id: int) -> str:
    return item_page(_reward(reward_id), RestockForm(formdata=None), CountForm(formdata=None))


@bp.route("/rewards/<int:reward_id>/edit", methods=["GET", "POST"])
def edit_reward(reward_id: int) -> Response | str:
    _require(can_manage_catalog(current_user))
    item = _reward(reward_id)
    form = RewardForm(obj=item) if request.method == "GET" else RewardForm()
    form.set_programs(catalog_reads.programs_for_choice())
    if request.method == "GET":
        form.kind.data, form.value_dollars.data, form.version.data = str(item.kind), plain_dollars(
            item.value_cents), str(item.version)
    elif form.validate_on_submit():
        try:
            catalog.update_reward(item, reward_input(form), version=int(form.version.data or 0), actor=current_user)
            flash(f"{item.name} was saved.", "success")
            return redirect(url_for("catalog.reward", reward_id=item.id))
        except ServiceError as exc:
            fail(form, exc)
    return render_template("catalog/edit.html", form=form, reward=item)


@bp.post("/rewards/<int:reward_id>/restock")
def restock(reward_id: int) -> Response | tuple[str, int]:
    _require(can_manage_catalog(current_user))
    item, form = _reward(reward_id), RestockForm()
    if form.validate_on_submit():
        try:
            catalog.restock(item, form.quantity.data or 0, form.note.data or "", actor=current_user)
            flash(f"Added {form.quantity.data} to {item.name}.", "success")
            return redirect(url_for("catalog.reward", reward_id=item.id))
        except ServiceError as exc:
            fail(form, exc)
    return item_page(item, form, CountForm(formdata=None)), 422


@bp.post("/rewards/<int:reward_id>/count")
def count(reward_id: int) -> Response | tuple[str, int]:
    _require(can_manage_catalog(current_user))
    item, form = _reward(reward_id), CountForm()
    if form.validate_on_submit():
        try:
            row = catalog.record_count(item, form.counted.data or 0, form.note.data or "", actor=current_user)
            flash(catalog_reads.count_message(row), "success" if row.counted == row.expected else "info")
            return redirect(url_for("catalog.reward", reward_id=item.id))
        except ServiceError as exc:
            fail(form, exc)
    return item_page(item, RestockForm(formdata=None), form), 422


@bp.route("/adjustments", methods=["GET", "POST"])
def adjustments_page() -> Response | str | tuple[str, int]:
    _require(can_adjust_manually(current_user))
    form = AdjustmentForm(formdata=request.form if request.method == "POST" else None,
                          record_number=request.args.get("record", ""))
    if form.validate_on_submit():
        try:
            patient = get_patient_for(current_user, adjustments_reads.find_patient_id(form.record_number.data or ""))
            adjustments.post_adjustment(patient, points=form.points.data or 0, draws=form.draws.data or 0,
                                        reason=form.reason.data or "", actor=current_user)
            flash(f"The manual adjustment for {patient.display_name} was posted.", "success")
            return redirect(url_for("catalog.adjustments_page"))
        except ServiceError as exc:
            fail(form, exc)
    rows, status = listings.recent_adjustments(current_user), 422 if request.method == "POST" else 200
    return render_template("catalog/adjustments.html", form=form, rows=rows), status
