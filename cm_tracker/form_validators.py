"""WTForms validators for the limits in cm_tracker.validation, and the money field, shared by the page forms of every
blueprint."""

from __future__ import annotations

from typing import Any

import wtforms
from wtforms import Field, Form, StringField, ValidationError

from cm_tracker.money import parse_dollars
from cm_tracker.validation import CALENDAR_MESSAGE, has_control_characters, in_calendar, is_row_id


def printable(_form: Any, field: Field) -> None:
    """For one-line text fields."""
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise ValidationError("Remove the control characters (such as NUL) from this field.")


def row_id_field(_form: Any, field: Field) -> None:
    """For an integer field that names a row."""
    if field.data is not None and not is_row_id(field.data):
        raise ValidationError("Choose one of the items listed.")


class MoneyField(StringField):
    """Dollars typed by a person ("599.00", "$1,654.50"), held as integer `cents` once validated (None when empty).

    Read by cm_tracker.money.parse_dollars, so every money input accepts and refuses the same text.
    """

    cents: int | None = None

    def pre_validate(self, form: Form) -> None:
        self.cents = None
        if (self.data or "").strip():
            try:
                self.cents = parse_dollars(self.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None


class DateField(wtforms.DateField):
    """wtforms' date field for every page form, refusing a date outside the calendar's usable years
    (cm_tracker.validation.in_calendar) as it reads the form, so `data` is None for one even where a page reads the
    field without validating it (a filter in the query string)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not in_calendar(self.data):
            self.data = None
            raise ValueError(CALENDAR_MESSAGE)
