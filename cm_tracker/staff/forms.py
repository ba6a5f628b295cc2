"""Desk forms: they check shape only; the use cases check the rules (docs/architecture.md)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from cm_tracker.form_validators import DateField, printable
from cm_tracker.services.core.clinic import clinic_zone
from cm_tracker.services.queries.desk import OtherDay, day_words
from cm_tracker.services.usecases.specimens import ACCESSION_LENGTH, NOT_SUBMITTED
from cm_tracker.timeutil import as_utc

ATTENDANCE_PAIRS = [("attended", "Attended"), ("excused", "Excused"), ("unexcused", "Unexcused absence")]


def choices(*pairs: tuple[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


WEEKDAY_CHOICES = choices(("mon", "Monday"), ("tue", "Tuesday"), ("wed", "Wednesday"), ("thu", "Thursday"),
                          ("fri", "Friday"), ("sat", "Saturday"), ("sun", "Sunday"))
RESULT_CHOICES = choices(("negative", "Negative"), ("positive", "Positive"))
VALIDITY_CHOICES = choices(("valid", "Valid"), ("dilute", "Dilute"), ("adulterated", "Adulterated"),
                           ("substituted", "Substituted"), ("invalid", "Invalid"))
YES_NO = choices(("yes", "Yes"), ("no", "No"))
METHOD_CHOICES = choices(("poc", "Point of care cup"), ("lab", "Lab"), ("remote", "Remote"))
STATUS_CHOICES = choices(("final", "Final result"), ("pending", "Pending (sent to the lab)"), ("refused", "Refused"),
                         ("missed", "Missed"), ("excused", "Excused"))
ATTENDANCE_CHOICES = choices(*ATTENDANCE_PAIRS)
# A visit's form sent with another collection date: the specimen stands for the visit it was opened from ("due"), or
# is recorded by its date (the open visit of that day, else none: unscheduled). The labels name the days (desk.py).
BELONGS_TO_CHOICES = choices(("due", "The visit this form was opened for"), ("by_date", "Recorded by its date"))


class Choice(RadioField):
    """A radio group that may be left unanswered (nothing is pre-selected); the service says when that matters."""

    def pre_validate(self, form: Any) -> None:
        if self.data not in (None, "", "None"):
            super().pre_validate(form)


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def clinic_moment(day: date | None, at: time | None) -> datetime | None:
    """A date and a time typed at the desk, on the clinic's clock, as an aware UTC moment."""
    if day is None or at is None:
        return None
    return as_utc(datetime.combine(day, at, tzinfo=clinic_zone()))


class EnrolForm(FlaskForm):
    display_name = StringField("Patient's name", validators=[DataRequired("Give the patient's name."),
                                                             Length(max=120)], render_kw={"autocomplete": "off"})
    record_number = StringField("Record number", validators=[DataRequired("Give the record number."),
                                                             Length(max=40)], render_kw={"autocomplete": "off"})
    program_id = SelectField("Programme", coerce=int, validators=[InputRequired("Choose a programme.")])
    counselor_id = SelectField("Counselor", coerce=str, validate_choice=False,
                               description="Whose caseload the patient joins.")
    start_date = DateField("Start date", validators=[InputRequired("Give the start date as YYYY-MM-DD.")])
    visit_days = MultiCheckbox("Visit days", choices=WEEKDAY_CHOICES,
                               description="Leave all unticked to use the programme's days. In a programme with "
                                           "visits per week, these are the days of weeks outside its plan; choose "
                                           "the plan's days on the patient's visit days page.")
    portal_username = StringField("Portal username (optional)", validators=[Optional(), Length(max=64)],
                                  description="Opens the patient's portal account with a one-time password.",
                                  render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})


class EndEnrollmentForm(FlaskForm):
    status = Choice("How the enrollment ends", choices=choices(("completed", "Completed the programme"),
                                                                 ("discharged", "Discharged")))
    on = DateField("Last day", validators=[InputRequired("Give the last day as YYYY-MM-DD.")])
    reason = TextAreaField("Reason", validators=[DataRequired("Give a reason."), Length(max=500)])


class SpecimenForm(FlaskForm):
    """The analyte radio groups are added per programme (specimen_form); nothing is pre-selected but the status."""

    status = Choice("Status", choices=STATUS_CHOICES, default="final")
    validity = Choice("Validity", choices=VALIDITY_CHOICES)
    temperature_ok = Choice("Temperature in range (32-38 C)", choices=YES_NO)
    observed = Choice("Collection observed", choices=YES_NO)
    method = Choice("Method", choices=METHOD_CHOICES)
    collected_on = DateField("Collected on", validators=[InputRequired("Give the date as YYYY-MM-DD.")])
    collected_time = TimeField("at", validators=[InputRequired("Give the time as HH:MM.")])
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])
    accession = StringField("Accession / requisition number", filters=[strip],
                            validators=[Optional(), Length(max=ACCESSION_LENGTH), printable],
                            description="The number on the cup's lab label, when it goes to the lab.",
                            render_kw={"autocomplete": "off", "spellcheck": "false"})
    confirm_untested = BooleanField("Confirm the analytes left blank were not tested (the specimen then cannot "
                                    "count for their target)")
    belongs_to = Choice("Which visit is this specimen for?", choices=BELONGS_TO_CHOICES)

    analytes: list[str] = []
    # The facts a stale form is compared on with the recorded specimen (queries.desk.already_recorded).
    fact_names = ("status", "validity", "temperature_ok", "observed", "method")
    # For desk.js, which hides the result groups when one of these is chosen; the service owns the rule.
    statuses_without_results = " ".join(sorted(str(s) for s in NOT_SUBMITTED))

    def result_fields(self) -> list[tuple[str, Field]]:
        return [(a, getattr(self, f"result_{a}")) for a in self.analytes]

    def results(self) -> dict[str, str]:
        return {a: f.data for a, f in self.result_fields() if f.data in ("negative", "positive")}

    # The error summary's order is the page's (results first), and its names for fields whose label reads oddly alone.
    page_order = ("validity", "temperature_ok", "observed", "method", "status", "belongs_to", "confirm_untested",
                  "collected_on", "collected_time", "accession", "note")
    summary_labels = {"collected_time": "Time", "confirm_untested": "Analytes not tested"}

    def errors_in_page_order(self) -> list[tuple[str, str, str]]:
        """(field id, label, message) of every field in error, for the summary's links."""
        names = [f"result_{a}" for a in self.analytes] + list(self.page_order)
        found = [getattr(self, name) for name in names]
        return [(f.id, self.summary_labels.get(f.name, f.label.text), " ".join(f.errors)) for f in found if f.errors]

    def typed_facts(self) -> dict[str, str]:
        """What was chosen on the form, by field name ("" where nothing was)."""
        names = [f"result_{a}" for a in self.analytes] + list(self.fact_names)
        return {name: str(getattr(self, name).data or "") for name in names}

    def label_of(self, name: str, value: str) -> str:
        """A choice's label on this form ("Point of care cup" for method "poc"); "not chosen" for none."""
        for choice in getattr(self, name).choices:
            if choice.value == value:
                return str(choice.label)
        return value or "not chosen"


def which_visit_choices(question: OtherDay, today: date) -> list[SelectChoice]:
    """The two answers to "which visit is this specimen for?", naming the days (BELONGS_TO_CHOICES' values)."""
    due, typed = day_words(question.due_on, today), day_words(question.typed_on, today)
    by_date = (f"The visit of {typed} (the visit due {due} stays open)" if question.visit_that_day else
               f"No visit: an unscheduled specimen of {typed} (the visit due {due} stays open)")
    return choices(("due", f"The visit due {due}, collected on {typed}"), ("by_date", by_date))


def specimen_form(analytes: list[str], **kwargs: Any) -> SpecimenForm:
    """A specimen form with one negative/positive radio group per analyte of the programme's panel."""
    fields = {f"result_{a}": Choice(a.replace("_", " ").capitalize(), choices=RESULT_CHOICES) for a in analytes}
    cls = type("PanelSpecimenForm", (SpecimenForm,), {**fields, "analytes": list(analytes)})
    return cls(**kwargs)  # type: ignore[no-any-return]


class SpecimenCorrectionForm(SpecimenForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired("Reload the page.")])
    reason = StringField("Reason for the correction", validators=[DataRequired("Say why it is corrected."),
                                                                  Length(max=500)])


def specimen_correction_form(analytes: list[str], **kwargs: Any) -> SpecimenCorrectionForm:
    fields = {f"result_{a}": Choice(a.replace("_", " ").capitalize(), choices=RESULT_CHOICES) for a in analytes}
    cls = type("PanelCorrectionForm", (SpecimenCorrectionForm,), {**fields, "analytes": list(analytes)})
    return cls(**kwargs)  # type: ignore[no-any-return]


class AttendanceCorrectionForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired("Reload the page.")])
    status = Choice("Attendance", choices=ATTENDANCE_CHOICES)
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])
    reason = StringField("Reason for the correction", validators=[DataRequired("Say why it is corrected."),
                                                                  Length(max=500)])


class ExcuseForm(FlaskForm):
    on = DateField("Day excused", validators=[InputRequired("Give the day as YYYY-MM-DD.")])
    reason = StringField("Reason", validators=[DataRequired("Give the reason."), Length(max=500)],
                         description="E.g. a documented medical appointment, a court date.")


class ClosureForm(FlaskForm):
    on = DateField("Day the clinic was closed", validators=[InputRequired("Give the day as YYYY-MM-DD.")])
    reason = StringField("Reason", validators=[DataRequired("Give the reason."), Length(max=500)])


class CloseDayForm(FlaskForm):
    day = DateField("Clinic day", validators=[InputRequired(message="Choose the day to close.")],
                    description="A finished day: every visit of it still unrecorded is marked missed, or excused "
                                "when an excuse or a clinic closure covers it.")


class RollCallForm(FlaskForm):
    session = SelectField("Session", validate_choice=False)
    held_on = DateField("Date", validators=[InputRequired("Give the date as YYYY-MM-DD.")])
    held_at = TimeField("Time", validators=[InputRequired("Give the time as HH:MM.")])


class ActivityForm(FlaskForm):
    target = SelectField("Activity target", validate_choice=False)
    week_of = DateField("Week of", validators=[InputRequired("Give a day of the week as YYYY-MM-DD.")])
    description = StringField("What the patient will do", validators=[DataRequired("Say what."), Length(max=1000)])
    verification = StringField("How it will be verified", validators=[DataRequired("Say how."), Length(max=1000)])


class ActivityDecisionForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=1000)])


class PatientDetailsForm(FlaskForm):
    """The name, and (admins and managers) the caseload; both go to usecases.patients.update_patient."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired("Reload the page.")])
    display_name = StringField("Patient's name", validators=[DataRequired("Give the patient's name."),
                                                             Length(max=120)], render_kw={"autocomplete": "off"})
    counselor_id = SelectField("Counselor", coerce=str, validate_choice=False,
                               description="Whose caseload holds the patient.")


class VisitDaysForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired("Reload the page.")])
    visit_days = MultiCheckbox("Days", choices=WEEKDAY_CHOICES, description="The current days are ticked.")
    from_on = DateField("From", validators=[InputRequired("Give the first day as YYYY-MM-DD.")],
                        description="Today or later: visits from this day on move to the new days.")

    plan_fields: list[str] = []  # one per stretch of a visit plan still to come (visit_days_form)

    def plan_days(self) -> list[Field]:
        return [getattr(self, name) for name in self.plan_fields]


def visit_days_form(parts: list[dict[str, Any]], **kwargs: Any) -> VisitDaysForm:
    """The visit days form with one group of day boxes per stretch of the programme's visit plan (`parts`, each
    {"from_week", "to_week", "per_week", "days"}), named plan_0, plan_1... in the order given."""
    fields = {f"plan_{i}": MultiCheckbox(_stretch_label(p), choices=WEEKDAY_CHOICES, default=list(p["days"]),
                                         description=_stretch_hint(p["per_week"]))
              for i, p in enumerate(parts)}
    cls = type("PlanVisitDaysForm", (VisitDaysForm,), {**fields, "plan_fields": list(fields)})
    return cls(**kwargs)  # type: ignore[no-any-return]


def _stretch_label(part: dict[str, Any]) -> str:
    weeks = f"Weeks {part['from_week']}-{part['to_week']}" if part["from_week"] != part["to_week"] \
        else f"Week {part['from_week']}"
    count = part["per_week"]
    return f"{weeks}: {count} visit{'s' if count != 1 else ''} a week"


def _stretch_hint(count: int) -> str:
    return f"Choose exactly {count} day{'s' if count != 1 else ''}; the current ones are ticked."
