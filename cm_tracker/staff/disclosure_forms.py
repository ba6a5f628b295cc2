"""The disclosure form (docs/part2.md "The disclosure packet"): it checks shape only; usecases.consents checks the
rules (the consent, the dates, the packet's choice), and its refusals go beside these fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from cm_tracker.form_validators import DateField, printable, row_id_field
from cm_tracker.services.usecases import consents
from cm_tracker.services.usecases.consents import DisclosureInput
from cm_tracker.services.usecases.disclosure_packets import FIELDS, PacketChoice
from cm_tracker.staff.forms import MultiCheckbox

SECTION_LABELS = {"results": "Test results", "attendance": "Attendance (each scheduled visit)",
                  "rewards": "Rewards earned and spent", "activities": "Goal activities"}
# The packet's languages, each named in its own language as a switch should show them.
LANGUAGE_CHOICES = [("en", "English"), ("es", "Español")]
SENT_CHOICES = [("packet", "A packet printed from cm-tracker (the records below, with the notice and the consent)"),
                ("outside", "Records sent outside cm-tracker (by the EHR, fax, a letter): describe them below")]
# The service's field names (the API's) -> this form's.
FIELD_NAMES = {FIELDS["start"]: "period_from", FIELDS["end"]: "period_to", FIELDS["sections"]: "include",
               FIELDS["language"]: "language", "consent_id": "consent_id"}


def _limit(most: int) -> Length:
    return Length(max=most, message=f"Keep it to at most {most} characters.")


class DisclosureForm(FlaskForm):
    """One disclosure under the consent the page shows, and what its packet carries."""

    consent_id = IntegerField(widget=HiddenInput(), validators=[InputRequired("Choose the consent."), row_id_field])
    key = HiddenField(validators=[Optional(), Length(max=consents.MAX_KEY)])
    recipient = StringField("Recipient", validators=[_limit(consents.MAX_NAME), printable],
                            description="Who received the records, as the consent names them.")
    in_class = BooleanField("I confirm that this recipient belongs to the class of recipients the consent names")
    disclosed_on = DateField("Disclosed on", validators=[InputRequired("Give the day as YYYY-MM-DD.")])
    sent = RadioField("What was sent", choices=SENT_CHOICES, default="packet")
    period_from = DateField("Records from", validators=[Optional()])
    period_to = DateField("Records to", validators=[Optional()])
    include = MultiCheckbox("Records to include", choices=list(SECTION_LABELS.items()))
    language = RadioField("Packet language", choices=LANGUAGE_CHOICES, default="en")
    description = TextAreaField("Description", validators=[_limit(consents.MAX_TEXT)],
                                description="What was disclosed. Optional for a packet: by default it names the "
                                            "records and the period (\"Test results and attendance, 1 November to "
                                            "30 November 2026\").")

    # Set by the page for a consent naming a class of recipients: staff then attest the recipient belongs to it.
    recipient_class: str | None = None

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid = super().validate(extra_validators)
        if self.sent.data != "outside":
            for day, what in ((self.period_from, "first"), (self.period_to, "last")):
                if day.data is None and not day.errors:
                    day.errors = [f"Give the {what} day of the records as YYYY-MM-DD."]
                    valid = False
        if self.recipient_class and not self.in_class.data:
            self.in_class.errors = [f"Confirm that the recipient is one of: {self.recipient_class}."]
            valid = False
        return valid

    def disclosure_input(self) -> DisclosureInput:
        return DisclosureInput(consent_id=self.consent_id.data or 0, recipient=self.recipient.data or "",
                               description=self.description.data or "",
                               disclosed_on=self.disclosed_on.data or date.min)

    def packet_choice(self) -> PacketChoice | None:
        """The packet chosen, or None for records sent outside cm-tracker. A period left blank is a refusal of the
        service's ("records.from"), so the page and the API say the same."""
        if self.sent.data == "outside":
            return None
        return PacketChoice(start=self.period_from.data or date.min, end=self.period_to.data or date.min,
                            sections=tuple(self.include.data or ()), language=self.language.data or "en")
