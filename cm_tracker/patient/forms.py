"""Portal forms: they check shape only; services check the rules (docs/architecture.md). Labels follow the
patient's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import AnyOf, DataRequired, InputRequired

from cm_tracker.services.usecases.portal import SUPPORTED_LANGUAGES


class LanguageForm(FlaskForm):
    """The language switch: each button carries its language, so it works without JavaScript."""

    language = HiddenField(validators=[DataRequired(), AnyOf(SUPPORTED_LANGUAGES)])
    next = HiddenField()


class RequestForm(FlaskForm):
    reward_id = IntegerField(validators=[InputRequired()])
    quantity = IntegerField(
        _l("How many"), default=1, invalid_value_message=_l("Enter a whole number."),
        # No range here: the service refuses a quantity with the patient's real limit, which the page then says
        # (wording.request_problem); "from 1 to 50" would be wrong when 15 is all they can have.
        validators=[InputRequired(_l("Say how many."))],
        render_kw={"inputmode": "numeric", "min": 1},
    )


class CancelForm(FlaskForm):
    """Cancelling a request sends nothing but the CSRF token; the request's id is in the address."""
