"""Rewards desk forms: shape only (whole numbers, lengths); the services decide balance, stock and confirmation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from cm_tracker.form_validators import row_id_field
from cm_tracker.services.usecases.draws import MAX_DRAWS_AT_ONCE


class RedeemForm(FlaskForm):
    reward_id = IntegerField("Item", validators=[InputRequired("Choose an item."), row_id_field])
    # No range here: the service refuses a quantity with the patient's real limit ("Choose 1 to 15"), which a
    # form cannot know (core.spending).
    quantity = IntegerField("How many", default=1, validators=[InputRequired("Say how many.")])
    # A fresh key per rendered form: a double click or a resent form redeems once (usecases.redemptions).
    key = HiddenField(validators=[Optional(), Length(max=120)])


class DrawForm(FlaskForm):
    count = IntegerField("Draws to make now", validators=[
        InputRequired("Say how many draws."), NumberRange(1, MAX_DRAWS_AT_ONCE, f"Draw 1 to {MAX_DRAWS_AT_ONCE}.")])
    # A one-time token per rendered form: a resent form shows the first draws and draws nothing new.
    key = HiddenField(validators=[Optional(), Length(max=120)])


class HandOverForm(FlaskForm):
    reward_id = IntegerField("Item chosen", validators=[InputRequired("Choose the item the patient picked."),
                                                         row_id_field])
    confirmer_username = StringField("Second staff member's username", validators=[Optional(), Length(max=64)],
                                     render_kw={"autocomplete": "off", "autocapitalize": "none",
                                                "spellcheck": "false"})
    confirmer_password = PasswordField("Their password", validators=[Optional(), Length(max=128)],
                                       render_kw={"autocomplete": "off"})
    # Ticked when the programme asks to confirm a hand-over above its value (usecases.prizes.needs_confirmation).
    confirm = BooleanField("Yes, hand over prizes of this value")


class GroupHandOverForm(HandOverForm):
    """Several prizes of one tier handed over at once: the tier, the item chosen and how many."""

    tier = HiddenField(validators=[InputRequired("Choose the tier."), Length(max=24)])
    quantity = IntegerField("How many", default=1, validators=[
        InputRequired("Say how many."), NumberRange(1, MAX_DRAWS_AT_ONCE, f"Choose 1 to {MAX_DRAWS_AT_ONCE}.")])


class ConfirmForm(FlaskForm):
    """Fulfilling or cancelling a request: only the CSRF token."""
