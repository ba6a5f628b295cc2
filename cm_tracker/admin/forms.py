"""Admin forms: they check shape only; usecases.accounts checks the rules (docs/architecture.md)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from cm_tracker.form_validators import DateField, printable
from cm_tracker.models import AuditOutcome, Role

ROLE_CHOICES = [
    SelectChoice("", "Choose a role"),
    SelectChoice(Role.COUNSELOR.value, "Counselor: records results for their own caseload"),
    SelectChoice(Role.MANAGER.value, "Manager: programmes, catalogue and reports"),
    SelectChoice(Role.ADMIN.value, "Admin: users, programmes and the audit trail"),
    SelectChoice(Role.PATIENT.value, "Patient: sees their own rewards in the portal"),
    SelectChoice(Role.LAB.value, "Lab: an integration account that sends lab results through the API, no pages"),
]
OUTCOME_CHOICES = [SelectChoice("", "Any outcome")] + [SelectChoice(o.value, o.value.capitalize())
                                                       for o in AuditOutcome]


def optional_int(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


class CreateUserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired("Give a username."), Length(max=64)],
                           render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
                           description="Lower-case letters, digits, dots, dashes or underscores.")
    display_name = StringField("Name shown in the app", validators=[DataRequired("Give a name."), Length(max=120)],
                               render_kw={"autocomplete": "off"})
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired("Choose a role.")])
    patient_id = SelectField("Patient record", coerce=optional_int, validate_choice=False,
                             description="Patient accounts only: the record this account belongs to.")
    password = PasswordField("Initial password", validators=[DataRequired("Give an initial password."),
                                                             Length(max=128)],
                             render_kw={"autocomplete": "new-password"},
                             description="At least 8 characters. Hand it over in person.")
    must_change_password = BooleanField("Ask for a new password at first sign-in", default=True,
                                        description="Not for a lab account, which never signs in on the web.")


class AuditSearchForm(FlaskForm):
    """A GET form: searching changes nothing, so it carries no CSRF token and its URL can be shared."""

    class Meta:
        csrf = False

    patient = StringField("Patient", validators=[Optional(), Length(max=40), printable],
                          description="Record number or patient id.")
    username = StringField("Username", validators=[Optional(), Length(max=64), printable],
                           render_kw={"autocapitalize": "none", "spellcheck": "false"})
    date_from = DateField("From (clinic date)", validators=[Optional()])
    date_to = DateField("To (clinic date)", validators=[Optional()])
    action = StringField("Action", validators=[Optional(), Length(max=64), printable],
                         description='For example "patient.view", or "user" for every user action.')
    outcome = SelectField("Outcome", choices=OUTCOME_CHOICES, default="")

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")
