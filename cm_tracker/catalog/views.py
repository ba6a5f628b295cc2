"""Helpers of the catalog pages: mapping a form to the service's input and a refusal back onto the form."""

from __future__ import annotations

from flask import render_template
from flask_wtf import FlaskForm

from cm_tracker.catalog.forms import CountForm, HandoverLimitForm, RestockForm, RewardForm
from cm_tracker.form_errors import show_errors
from cm_tracker.models import Reward
from cm_tracker.money import plain_dollars
from cm_tracker.services.core.errors import ServiceError
from cm_tracker.services.queries import catalog as catalog_reads
from cm_tracker.services.queries import prizes as prizes_reads
from cm_tracker.services.usecases import catalog

# Service field names that the form shows under another name.
FORM_NAMES = {"value_cents": "value_dollars", "stock": "opening_stock",
              "confirm_handover_above_cents": "above_dollars"}


def fail(form: FlaskForm, error: ServiceError) -> None:
    """Each refused field's message beside it; the rest above the form (the catalog templates show form_errors)."""
    form.form_errors.extend(show_errors(form, error, FORM_NAMES))


def reward_input(form: RewardForm) -> catalog.RewardInput:
    """The values of a validated form for the service."""
    is_prize = form.kind.data == "prize"
    return catalog.RewardInput(
        name=form.name.data or "", name_es=form.name_es.data or "", value_cents=form.value_dollars.cents or 0,
        description=form.description.data or "",
        cost_points=None if is_prize else form.cost_points.data, tier=(form.tier.data or "") if is_prize else None,
        program_id=form.program_id.data, low_stock_threshold=form.low_stock_threshold.data or 0,
        is_active=bool(form.is_active.data), is_stocked=is_prize or bool(form.is_stocked.data))


def item_page(reward: Reward, restock_form: RestockForm, count_form: CountForm) -> str:
    [item] = catalog_reads.items([reward])
    return render_template("catalog/reward.html", item=item, movements=catalog_reads.movements(reward.id),
                           counts=catalog_reads.count_history(reward.id), restock_form=restock_form,
                           count_form=count_form)


def index_page(limit_form: HandoverLimitForm | None = None, failed_id: int | None = None,
               status: int = 200) -> tuple[str, int]:
    """The catalog and cabinet, with each prize programme's hand-over confirmation setting (the refused one keeps
    what was typed)."""
    items = catalog_reads.catalog()
    programmes = prizes_reads.prize_programmes()
    limits = {p.id: limit_form if limit_form is not None and p.id == failed_id else HandoverLimitForm(
        formdata=None, above_dollars=plain_dollars(p.confirm_handover_above_cents)
        if p.confirm_handover_above_cents is not None else "") for p in programmes}
    return render_template("catalog/index.html", items=items, low=catalog_reads.low_stock(items),
                           counts=catalog_reads.count_history(limit=15), programs=catalog_reads.program_names(),
                           names={i.reward.id: i.reward.name for i in items}, prize_programmes=programmes,
                           limits=limits), status
