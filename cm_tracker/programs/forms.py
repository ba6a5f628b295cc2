"""Programme forms: they check shape and turn what a person typed into the API's JSON; services check the rules.

Money is typed in dollars and cents ("599.00") into a MoneyField, which cm_tracker.money reads as integer cents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from cm_tracker.form_errors import add_error
from cm_tracker.form_validators import DateField, MoneyField
from cm_tracker.models.program import NEAR_CAP_PERCENT_DEFAULT
from cm_tracker.money import plain_dollars
from cm_tracker.validation import is_decimal


def choices(*pairs: tuple[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


WEEKDAYS = choices(("mon", "Mon"), ("tue", "Tue"), ("wed", "Wed"), ("thu", "Thu"), ("fri", "Fri"), ("sat", "Sat"),
                   ("sun", "Sun"))
CAP_WINDOWS = choices(("episode", "Per enrolment (episode)"), ("calendar_year", "Per calendar year"),
                      ("rolling_365", "Per rolling 365 days"))
DILUTE = choices(("failure", "Counts as a failure (positive)"), ("neutral", "Does not count either way"))
KINDS = choices(("escalating", "Escalating points"), ("prize_draws", "Prize draws (fishbowl)"),
                ("fixed", "Fixed points or draws"))
TARGET_KINDS = choices(("abstinence", "Abstinence: negative tests"), ("attendance", "Attendance at sessions"),
                       ("activity", "Verified goal activities"))
PER = choices(("sample", "Every success in a row"), ("week", "Each calendar week in a row"))
PLAN_RE = re.compile(r"^(\d{1,3})(?:\s*(?:-|to)\s*(\d{1,3}))?\s*:\s*(.+)$")
DAY_NAMES = {c.value: c.value for c in WEEKDAYS} | {
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri", "saturday": "sat",
    "sunday": "sun"}
WHOLE = "Give a whole number."


def number(label: str, *, required: bool = False, minimum: int = 0, **kw: Any) -> IntegerField:
    """A whole number; its range is the services' and the engine's to judge, so both speak with one voice."""
    checks = [InputRequired(WHOLE) if required else Optional()]
    return IntegerField(label, validators=checks, render_kw={"inputmode": "numeric", "min": minimum}, **kw)


# Words between a count and the days, as people write them: "2 a week", "2 visits per week", "2x".
PLAN_FILLER = frozenset({"a", "per", "week", "weekly", "visit", "visits", "x", "/", "times"})


def read_plan(text: str) -> list[dict[str, Any]] | None:
    """'1-12: 2 a week' or '13-24: mon' lines (or both: '1-12: 2 a week, mon thu', the count with its default
    days) -> the API's visit_plan; empty -> None. Raises ValueError naming the bad line."""
    plan = []
    for n, line in enumerate(filter(None, (raw.strip() for raw in text.splitlines())), start=1):
        match = PLAN_RE.match(line.lower())
        part = _plan_part(match.group(3)) if match else None
        if match is None or part is None:
            raise ValueError(f"Line {n}: write the weeks and their visits a week, such as 1-12: 2 a week, or "
                             "their days, such as 13-24: mon.")
        first = int(match.group(1))
        plan.append({"from_week": first, "to_week": int(match.group(2) or first), **part})
    return plan or None


def _plan_part(text: str) -> dict[str, Any] | None:
    words = [w for w in re.split(r"[\s,]+", text.strip()) if w]
    count = int(words.pop(0).rstrip("x")) if words and re.fullmatch(r"[1-7]x?", words[0]) else None
    if count is not None:
        words = [w for w in words if w not in PLAN_FILLER]
    days = [DAY_NAMES.get(w) for w in words]
    if None in days or (count is None and not days):
        return None
    return ({"per_week": count} if count is not None else {}) | ({"days": days} if days else {})


def plan_text(plan: list[dict[str, Any]] | None) -> str:
    lines = []
    for p in plan or []:
        count = p.get("per_week") or len(p.get("days") or [])
        lines.append(f"{p['from_week']}-{p['to_week']}: {count} a week" + (f", {' '.join(p['days'])}" if p.get("days")
                                                                             else ""))
    return "\n".join(lines)


class ProgramForm(FlaskForm):
    """The fields of a programme that the clinic sets (docs/api.md POST /programs, less its targets)."""

    name = StringField("Name", validators=[DataRequired("Give the programme a name."), Length(max=120)])
    description = TextAreaField("Description", validators=[Length(max=4000)],
                                description="What patients earn and how, in plain words.")
    source = TextAreaField("Source", validators=[Length(max=2000)],
                           description="Where the schedule's numbers come from (trial, manual, payer rules).")
    caveat = TextAreaField("Caveat", validators=[Length(max=2000)],
                           description="How sure the numbers are, and anything the clinic should check.")
    funding_source = StringField("Funding source", validators=[Length(max=120)])
    budget = MoneyField("Budget ($)", description="Optional: the programme's whole budget, for the manager's figures, "
                                                  "in dollars and cents such as 25000.00.",
                        render_kw={"inputmode": "decimal"})
    point_value = MoneyField("Value of one point ($)", validators=[DataRequired("Give the value of one point.")],
                             render_kw={"inputmode": "decimal"}, description="Dollars and cents, such as 0.25.")
    weeks = number("Length in weeks", required=True, minimum=1)
    visit_days = SelectMultipleField("Visit days", choices=WEEKDAYS,
                                     validators=[DataRequired("Choose at least one visit day.")])
    visit_plan = TextAreaField("Visits per week, by week (optional)", render_kw={"rows": 3},
                               description="One line per stretch of weeks with its visits a week, such as "
                                           "1-12: 2 a week and 13-24: 1 a week; the clinic chooses each patient's "
                                           "days (add days to set the usual ones: 1-12: 2 a week, mon thu). "
                                           "Weeks not listed use the visit days above.")
    cap = MoneyField("Cap ($)", validators=[DataRequired("Give the cap.")], render_kw={"inputmode": "decimal"},
                     description="The most one patient may receive in the cap window, such as 599.00.")
    cap_window = SelectField("Cap window", choices=CAP_WINDOWS)
    max_award = MoneyField("Most one award may be worth ($)", render_kw={"inputmode": "decimal"},
                           description="Optional, e.g. 15.00 under nominal-value rules.")
    near_cap_percent = number("Near the cap from (% of the cap)", minimum=1, default=NEAR_CAP_PERCENT_DEFAULT,
                              description="The dashboard and the budget report flag patients who have used this "
                                          "share of the cap, 1 to 100.")
    dilute_policy = SelectField("A dilute specimen", choices=DILUTE)
    requires_two_person_handover = BooleanField("Prize hand-overs need a second staff member")
    submit = SubmitField("Save")

    def validate_visit_plan(self, field: Field) -> None:
        try:
            read_plan(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def program_data(self) -> dict[str, Any]:
        """The API's JSON for these fields; call after validate(). A near-cap share left empty is not sent, so the
        programme keeps its own (the default for a new one)."""
        return {
            "name": self.name.data, "description": self.description.data or "", "source": self.source.data or "",
            "caveat": self.caveat.data or "", "funding_source": self.funding_source.data or "",
            "budget_cents": self.budget.cents, "point_value_cents": self.point_value.cents, "weeks": self.weeks.data,
            "visit_days": [c.value for c in WEEKDAYS if c.value in (self.visit_days.data or [])],
            "visit_plan": read_plan(self.visit_plan.data or ""), "cap_cents": self.cap.cents,
            "cap_window": self.cap_window.data, "max_award_cents": self.max_award.cents,
            "dilute_policy": self.dilute_policy.data,
            "requires_two_person_handover": bool(self.requires_two_person_handover.data),
        } | ({} if self.near_cap_percent.data is None else {"near_cap_percent": self.near_cap_percent.data})


# Service field names (docs/api.md) -> this form's field names.
PROGRAM_FIELDS = {"budget_cents": "budget", "point_value_cents": "point_value", "cap_cents": "cap",
                  "max_award_cents": "max_award"}


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """A programme's JSON (or a preset's) as this form's initial values."""
    return {
        "name": data.get("name"), "description": data.get("description"), "source": data.get("source"),
        "caveat": data.get("caveat"), "funding_source": data.get("funding_source"),
        "budget": plain_dollars(data.get("budget_cents")), "point_value": plain_dollars(data.get("point_value_cents")),
        "weeks": data.get("weeks"), "visit_days": list(data.get("visit_days") or []),
        "visit_plan": plan_text(data.get("visit_plan")), "cap": plain_dollars(data.get("cap_cents")),
        "cap_window": data.get("cap_window"), "max_award": plain_dollars(data.get("max_award_cents")),
        "near_cap_percent": data.get("near_cap_percent", NEAR_CAP_PERCENT_DEFAULT),
        "dilute_policy": data.get("dilute_policy") or "failure",
        "requires_two_person_handover": bool(data.get("requires_two_person_handover")),
        "is_archived": bool(data.get("is_archived")), "version": data.get("version"),
    }  # fmt: skip


class EditProgramForm(ProgramForm):
    version = HiddenField()
    is_archived = BooleanField("Archived: no new enrolments; current patients carry on")

    def program_data(self) -> dict[str, Any]:
        version = int(self.version.data) if is_decimal(self.version.data or "") else 0
        return super().program_data() | {"is_archived": bool(self.is_archived.data), "version": version}


class TierForm(Form):
    """One kind of slip in the prize bowl."""

    tier = StringField("Tier", validators=[Optional(), Length(max=40)])
    slips = IntegerField("Slips", validators=[Optional()],
                         render_kw={"inputmode": "numeric", "min": 0})
    value = MoneyField("Prize value ($)", render_kw={"inputmode": "decimal"})

    def is_blank(self) -> bool:
        return not (self.tier.data or "").strip() and self.slips.data is None and not (self.value.data or "").strip()


class ScheduleFields:
    """The structured fields of docs/rules.md 4, per kind; `schedule_data` builds the schedule's JSON."""

    error_prefix = "schedule."  # the service's error paths for this schedule start so
    bowl_problems: tuple[str, ...] | list[str] = ()
    kind = SelectField("Kind of schedule", choices=KINDS)
    start = number("Points for the first success", minimum=1)
    step = number("Points added for each success in a row", minimum=0)
    max = number("Most points one success can earn", minimum=1, description="Optional.")
    bonus_every = number("Bonus on every … success in a row", minimum=1, description="Optional, e.g. 3.")
    bonus = number("Bonus points", minimum=1)
    escalate_per = SelectField("The value rises with", choices=PER, default="sample", validate_choice=False)
    recovery_after = number("Successes in a row that restore the earlier value after a reset", minimum=0,
                            description="0 = never.")
    start_draws = number("Draws for the first success", minimum=1)
    step_draws = number("Draws added for each success in a row", minimum=0)
    max_draws = number("Most draws one success can earn", minimum=1, description="Optional, e.g. 12.")
    draws_escalate_per = SelectField("The draws rise with", choices=PER, default="sample", validate_choice=False)
    draws_recovery_after = number("Successes in a row that restore the earlier draws after a reset", minimum=0,
                                  description="0 = never.")
    bonus_draws = number("Bonus draws when also negative for the bonus analytes", minimum=0)
    bonus_analytes = StringField("Bonus analytes", validators=[Optional(), Length(max=400)],
                                 description="Comma-separated, e.g. alcohol, opiates.")
    bowl = FieldList(FormField(TierForm), min_entries=5, max_entries=12)
    fixed_unit = SelectField("Each success earns", choices=choices(("points", "Points"), ("draws", "Draws")),
                             default="points", validate_choice=False)
    fixed_amount = number("How many", minimum=1)

    def schedule_data(self) -> dict[str, Any]:
        kind = self.kind.data
        if kind == "fixed":
            return {"kind": kind, self.fixed_unit.data or "points": self.fixed_amount.data}
        if kind == "prize_draws":
            data = {"kind": kind, "start_draws": self.start_draws.data, "step_draws": self.step_draws.data,
                    "max_draws": self.max_draws.data, "escalate_per": self.draws_escalate_per.data,
                    "recovery_after": self.draws_recovery_after.data, "bonus_draws": self.bonus_draws.data,
                    "bonus_analytes": [a.strip().lower() for a in (self.bonus_analytes.data or "").split(",")
                                       if a.strip()] or None,
                    "bowl": [{"tier": (t.tier.data or "").strip(), "slips": t.slips.data, "value_cents": t.value.cents}
                             for t in self.bowl_rows()]}  # fmt: skip
        else:
            data = {"kind": kind, "start": self.start.data, "step": self.step.data, "max": self.max.data,
                    "bonus_every": self.bonus_every.data, "bonus": self.bonus.data,
                    "escalate_per": self.escalate_per.data, "recovery_after": self.recovery_after.data}
        return {k: v for k, v in data.items() if v is not None}

    def bowl_rows(self) -> list[TierForm]:
        return [entry.form for entry in self.bowl if not entry.form.is_blank()]

    def place_error(self, path: str, message: str) -> bool:
        """An engine error of the schedule ("schedule.bowl.1.slips") beside its input, for form_errors.show_errors;
        one about the whole bowl goes to `bowl_problems`, shown above its table. False when no input shows it."""
        if not path.startswith(self.error_prefix):
            return False
        parts = path.removeprefix(self.error_prefix).split(".")
        if parts == ["bowl"]:
            self.bowl_problems = [*self.bowl_problems, message]
            return True
        rows, target = self.bowl_rows(), None
        if parts[0] == "bowl" and len(parts) == 3 and is_decimal(parts[1]) and int(parts[1]) < len(rows):
            target = getattr(rows[int(parts[1])], "value" if parts[2] == "value_cents" else parts[2], None)
        elif parts[0] != "bowl":
            target = getattr(self, self._field_for(parts[0]), None)
        if not isinstance(target, Field):
            return False
        add_error(target, message)
        return True

    def _field_for(self, name: str) -> str:
        if name in ("points", "draws"):
            return "fixed_amount"
        if self.kind.data == "prize_draws" and name in ("escalate_per", "recovery_after"):
            return f"draws_{name}"
        return name

    def fill_schedule(self, schedule: Mapping[str, Any]) -> None:
        """Set the inputs from a stored schedule (GET), leaving one empty bowl row to add a tier."""
        kind = schedule.get("kind", "escalating")
        self.kind.data = kind
        if kind == "fixed":
            self.fixed_unit.data = "draws" if schedule.get("draws") else "points"
            self.fixed_amount.data = schedule.get("draws") or schedule.get("points")
            return
        for name in ("start", "step", "max", "bonus_every", "bonus", "start_draws", "step_draws", "max_draws",
                     "bonus_draws"):
            if name in schedule:
                getattr(self, name).data = schedule[name]
        per, recovery = schedule.get("escalate_per", "sample"), schedule.get("recovery_after", 0)
        if kind == "prize_draws":
            self.draws_escalate_per.data, self.draws_recovery_after.data = per, recovery
            self.bonus_analytes.data = ", ".join(schedule.get("bonus_analytes") or [])
            tiers = list(schedule.get("bowl") or [])
            while len(self.bowl.entries):
                self.bowl.pop_entry()
            for tier in [*tiers, None]:
                self.bowl.append_entry({"tier": tier["tier"], "slips": tier["slips"],
                                        "value": plain_dollars(tier["value_cents"])} if tier else None)
        else:
            self.escalate_per.data, self.recovery_after.data = per, recovery


class ScheduleForm(FlaskForm, ScheduleFields):
    """A new version of one target's schedule, with the date it takes effect."""

    effective_on = DateField("Takes effect on", validators=[InputRequired("Give the date the change takes effect.")])
    based_on_version = HiddenField()
    preview = SubmitField("Preview")
    save = SubmitField("Save new version")

    def version_data(self) -> dict[str, Any]:
        based_on = self.based_on_version.data or ""
        return {"schedule": self.schedule_data(), "effective_on": self.effective_on.data.isoformat(),
                "based_on_version": int(based_on) if is_decimal(based_on) else None}


class NewProgramForm(ProgramForm, ScheduleFields):
    """A programme from scratch: its fields and its first target; more targets come from the API or presets."""

    error_prefix = "targets.0.schedule."
    target_label = StringField("What is reinforced", validators=[DataRequired("Name the behaviour."),
                                                                 Length(max=120)],
                               description="As patients know it, e.g. stimulants or group sessions.")
    target_key = StringField("Short key", validators=[DataRequired("Give a short key."), Length(max=40)],
                             description="Lower-case letters, digits or underscores, e.g. stimulants.")
    target_kind = SelectField("Kind of target", choices=TARGET_KINDS)
    analytes = StringField("Analytes whose negative result counts", validators=[Optional(), Length(max=400)],
                           description="Abstinence only; comma-separated, e.g. amphetamine, cocaine, "
                                       "methamphetamine.")

    def program_data(self) -> dict[str, Any]:
        analytes = [a.strip().lower() for a in (self.analytes.data or "").split(",") if a.strip()]
        target = {"key": (self.target_key.data or "").strip(), "kind": self.target_kind.data,
                  "label": (self.target_label.data or "").strip(), "schedule": self.schedule_data()}
        if analytes or self.target_kind.data == "abstinence":
            target["analytes"] = analytes
        return super().program_data() | {"targets": [target]}

    def place_error(self, path: str, message: str) -> bool:
        """The first target's errors ("targets.0.key") beside its inputs; its schedule's as ScheduleFields puts them."""
        parts = path.split(".")
        name = TARGET_FIELDS.get(parts[2]) if len(parts) > 2 and parts[:2] == ["targets", "0"] else None
        if name is None:
            return super().place_error(path, message)
        add_error(getattr(self, name), message)
        return True


TARGET_FIELDS = {"key": "target_key", "kind": "target_kind", "label": "target_label", "analytes": "analytes"}

