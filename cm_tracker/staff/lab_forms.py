"""The lab pages' forms: they check shape only; the use cases check the rules (docs/architecture.md)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional


class PatientSearchForm(FlaskForm):
    """The match page's search (a GET form: no CSRF, nothing changes)."""

    class Meta:
        csrf = False

    q = StringField("Record number or name", validators=[Optional(), Length(max=100)],
                    description="Part of the patient's record number or name.")


class MatchForm(FlaskForm):
    patient_id = HiddenField()


class ApplyForm(FlaskForm):
    """Apply a held result again, after the code it waited for was added to the map: the CSRF token only."""


class DismissForm(FlaskForm):
    reason = TextAreaField("Why dismiss it", validators=[Length(max=500, message="Keep the reason to at most 500 "
                                                                               "characters.")],
                           description="Kept with the result and shown in the audit trail, e.g. "
                                       "\"Test specimen sent by the lab while setting up the interface\".")


class CodeForm(FlaskForm):
    code = StringField("LOINC code", validators=[Length(max=16)], description="As the lab sends it, e.g. 19554-5.")
    analyte = SelectField("Counts as a result for", choices=[])
    note = StringField("Note", validators=[Length(max=200)],
                       description="Optional: where the code comes from, e.g. the lab's test name.")


class RemoveCodeForm(FlaskForm):
    """Remove a clinic code: the CSRF token only (the page asks first)."""
