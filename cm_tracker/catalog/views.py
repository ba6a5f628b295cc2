"""Helpers of the catalog pages: mapping a form to the service's input and a refusal back onto the form."""

from __future__ import annotations

from flask import render_template
from flask_wtf import FlaskForm

from cm_tracker.catalog.forms import CountForm, RestockForm, RewardForm
from cm_tracker.models import Reward
from cm_tracker.services.core.errors import ServiceError, ValidationFailed
from cm_tracker.services.queries import catalog as catalog_reads
from cm_tracker.services.usecases import catalog

# Service field names that the form shows under another name.
FORM_NAMES = {"value_cents": "value_dollars", "stock": "opening_stock"}


def fail(form: FlaskForm, error: ServiceError) -> None:
    """Put each refused field's message beside it; a refusal about no single field goes above the form."""
    placed = False
    for name, message in error.fields.items():
        name = FORM_NAMES.get(name, name)
        if name in form:
            form[name].errors = [message]
            placed = True
    if not placed:
        form.form_errors.append(error.message)


def reward_input(form: RewardForm) -> catalog.RewardInput:
    """The form's values for the service; a value that is not an amount is refused here with its field."""
    cents = catalog_reads.parse_dollars(form.value_dollars.data or "")
    if cents is None:
        raise ValidationFailed("The item could not be saved.",
                               fields={"value_cents": "Give an amount in dollars, e.g. 10 or 12.50."})
    is_prize = form.kind.data == "prize"
    return catalog.RewardInput(
        name=form.name.data or "", value_cents=cents, description=form.description.data or "",
        cost_points=None if is_prize else form.cost_points.data, tier=(form.tier.data or "") if is_prize else None,
        program_id=form.program_id.data, low_stock_threshold=form.low_stock_threshold.data or 0,
        is_active=bool(form.is_active.data), is_stocked=is_prize or bool(form.is_stocked.data))


def item_page(reward: Reward, restock_form: RestockForm, count_form: CountForm) -> str:
    [item] = catalog_reads.items([reward])
    return render_template("catalog/reward.html", item=item, movements=catalog_reads.movements(reward.id),
                           counts=catalog_reads.count_history(reward.id), restock_form=restock_form,
                           count_form=count_form)
