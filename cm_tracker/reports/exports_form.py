"""The filters of the identified exports view (a GET form: nothing changes, so no CSRF token, and its URL can be
shared)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from cm_tracker.form_validators import DateField, printable
from cm_tracker.services.queries.identified_exports import ExportCriteria, exporters


def _optional_int(value: Any) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class ExportsFilterForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField("From (clinic date)", validators=[Optional()])
    date_to = DateField("To (clinic date)", validators=[Optional()])
    user_id = SelectField("Exported by", coerce=_optional_int, validate_choice=True)
    patient = StringField("Patient", validators=[Optional(), Length(max=120), printable],
                          description="Record number, or part of a name.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_id.choices = [SelectChoice("", "Anyone"), *[
            SelectChoice(str(u.id), f"{u.display_name} ({u.username}, {u.role})") for u in exporters()]]

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end must be on or after the start.")

    def criteria(self) -> ExportCriteria:
        return ExportCriteria(self.date_from.data, self.date_to.data, self.user_id.data,
                              (self.patient.data or "").strip())

    def query(self) -> dict[str, str]:
        """The filters as URL arguments, for paging."""
        values = {"date_from": self.date_from.data, "date_to": self.date_to.data, "user_id": self.user_id.data,
                  "patient": (self.patient.data or "").strip()}
        return {key: str(value) for key, value in values.items() if value not in (None, "")}
