"""WTForms validators for the limits in cm_tracker.validation, shared by the page forms of every blueprint."""

from __future__ import annotations

from typing import Any

from wtforms import Field, ValidationError

from cm_tracker.validation import has_control_characters, is_row_id


def printable(_form: Any, field: Field) -> None:
    """For one-line text fields."""
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise ValidationError("Remove the control characters (such as NUL) from this field.")


def row_id_field(_form: Any, field: Field) -> None:
    """For an integer field that names a row."""
    if field.data is not None and not is_row_id(field.data):
        raise ValidationError("Choose one of the items listed.")
