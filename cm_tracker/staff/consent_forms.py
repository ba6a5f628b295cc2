"""The Part 2 pages' forms (docs/part2.md): they check shape only; usecases.consents checks the rules, and its
refusals go beside these fields (form_errors.show_errors), so the page and the API cannot disagree."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from cm_tracker.form_validators import DateField
from cm_tracker.models import RecipientKind
from cm_tracker.services.usecases import consents
from cm_tracker.services.usecases.consents import ConsentInput
from cm_tracker.staff.forms import choices

KIND_CHOICES = choices((RecipientKind.NAMED.value, "One named recipient (a person or an organisation)"),
                       (RecipientKind.TPO_CLASS.value,
                        "A class of recipients, for treatment, payment and health care operations"))
# The printed form's languages, each named in its own language as a switch should show them.
LANGUAGE_CHOICES = choices(("en", "English"), ("es", "Español"))


def _limit(most: int) -> Length:
    return Length(max=most, message=f"Keep it to at most {most} characters.")


class ConsentForm(FlaskForm):
    """A consent the patient signed, as the paper says; the same fields fill the printable form to sign."""

    recipient_kind = RadioField("Who may receive the information", choices=KIND_CHOICES,
                                default=RecipientKind.NAMED.value)
    recipient = StringField("Recipient", validators=[InputRequired("Name the recipient, or the class of "
                                                                   "recipients."), _limit(consents.MAX_NAME)],
                            description="By name, e.g. \"Dr Ana Ruiz, Riverside Clinic\"; for a class, e.g. \"my "
                                        "treating providers and my health plan\".")
    information = TextAreaField("What information may be disclosed",
                                validators=[InputRequired("Describe the information."), _limit(consents.MAX_TEXT)],
                                description="Specific and meaningful, e.g. \"urine test results and attendance in "
                                            "the contingency management programme, January to March 2027\".")
    purpose = TextAreaField("Purpose", validators=[InputRequired("Give each purpose."),
                                                   _limit(consents.MAX_PURPOSE)],
                            description="Each purpose, e.g. \"coordinating my treatment\"; for a class of "
                                        "recipients: \"treatment, payment and health care operations\".")
    expires_on = DateField("Expires on", validators=[Optional()],
                           description="The consent holds through this day. Give a date, an event, or both "
                                       "(whichever comes first).")
    expiry_event = StringField("Or expires on this event", validators=[_limit(consents.MAX_EVENT)],
                               description="E.g. \"when I leave the programme\".")
    signed_on = DateField("Signed on", validators=[InputRequired("Give the day it was signed as YYYY-MM-DD.")])
    discloser = StringField("Who may disclose", validators=[_limit(consents.MAX_NAME)],
                            description="The programme, as written on the signed consent.")
    lang = RadioField("Language of the printed form", choices=LANGUAGE_CHOICES, default="en",
                      validators=[Optional()])

    def consent_input(self) -> ConsentInput:
        """The typed values as the service's input (shape only: the service judges them)."""
        return ConsentInput(
            information=self.information.data or "", recipient=self.recipient.data or "",
            purpose=self.purpose.data or "", signed_on=self.signed_on.data or date.min,
            recipient_kind=self.recipient_kind.data or RecipientKind.NAMED.value,
            expires_on=self.expires_on.data, expiry_event=self.expiry_event.data or "",
            discloser=self.discloser.data or "")


class RevokeForm(FlaskForm):
    revoked_on = DateField("Revoked on", validators=[InputRequired("Give the day as YYYY-MM-DD.")],
                           description="The day the patient revoked the consent (in writing, or by asking in the "
                                       "portal). Disclosures from this day on are refused; those before it stand.")
    note = TextAreaField("Note", validators=[_limit(consents.MAX_NOTE)],
                         description="Optional: how the patient revoked it, e.g. \"letter received 12 March\".")
