"""The report filters: programme, counselor and period (a GET form: nothing changes, so no CSRF token)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from cm_tracker.form_validators import DateField
from cm_tracker.services.queries.reports.choices import counselors, default_program_id, programs
from cm_tracker.services.usecases.reports import Filters


def _optional_int(value: Any) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False

    program_id = SelectField("Programme", coerce=_optional_int, validate_choice=True)
    counselor_id = SelectField("Counselor", coerce=_optional_int, validate_choice=True,
                               description="A counselor's current caseload.")
    date_from = DateField("From (clinic date)", validators=[Optional()],
                          description="Leave empty for the programme's start.")
    date_to = DateField("To (clinic date)", validators=[Optional()], description="Leave empty for today.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.program_id.choices = [(p.id, p.name + (" (archived)" if p.is_archived else "")) for p in programs()]
        # "" and not None: a None choice is sent back as the literal text "None" in the address.
        self.counselor_id.choices = [("", "Every counselor"), *[(u.id, u.display_name) for u in counselors()]]
        if self.program_id.data is None:
            self.program_id.data = default_program_id()

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end must be on or after the start.")

    def filters(self) -> Filters:
        return Filters(self.program_id.data, self.counselor_id.data, self.date_from.data, self.date_to.data)

    def query(self) -> dict[str, str]:
        """The filters as URL arguments, for CSV links and paging."""
        values = {"program_id": self.program_id.data, "counselor_id": self.counselor_id.data,
                  "date_from": self.date_from.data, "date_to": self.date_to.data}
        return {key: str(value) for key, value in values.items() if value is not None}
