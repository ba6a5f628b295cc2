"""Portal forms: they check shape only; services check the rules (docs/architecture.md). Labels follow the
patient's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, IntegerField, TextAreaField, ValidationError
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from cm_tracker.services.usecases.portal import SUPPORTED_LANGUAGES
from cm_tracker.services.usecases.revocation_requests import MAX_NOTE


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


def _storable(_form: FlaskForm, field: Field) -> None:
    """Line breaks are the patient's to keep; other control characters (NUL, pasted from elsewhere) cannot be stored."""
    if any((ord(ch) < 32 and ch not in "\n\r\t") or ord(ch) == 127 for ch in field.data or ""):
        raise ValidationError(_l("Your note holds a character that cannot be saved. Please type it again."))


class WithdrawForm(FlaskForm):
    """Asking to withdraw a consent: the consent's id is in the address; the note is optional."""

    note = TextAreaField(
        _l("Anything you want to tell the clinic (you can leave this empty)"),
        validators=[Length(max=MAX_NOTE, message=_l("Please keep your note to %(max)d characters or fewer.")),
                    _storable],
        render_kw={"maxlength": MAX_NOTE, "rows": 4},
    )
