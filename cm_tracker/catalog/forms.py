"""Catalog, stock and manual-adjustment forms: shape only; usecases.catalog and usecases.adjustments check rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from cm_tracker.form_validators import MoneyField
from cm_tracker.models import Program


def optional_int(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


KIND_CHOICES = [SelectChoice("voucher", "Voucher: bought with points from the catalog"),
                SelectChoice("prize", "Prize: chosen from the cabinet after a winning draw")]


class RewardForm(FlaskForm):
    kind = SelectField("Kind", choices=KIND_CHOICES, validators=[DataRequired("Choose voucher or prize.")])
    name = StringField("Name", validators=[DataRequired("Give a name."), Length(max=120)])
    name_es = StringField("Name in Spanish", validators=[Optional(), Length(max=120)],
                          description="What patients who read the portal in Spanish see. Leave blank to show the "
                                      "name above.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)],
                                description="What the patient gets, as staff would explain it.")
    cost_points = IntegerField("Cost in points", validators=[Optional()], description="Vouchers only.")
    tier = StringField("Prize tier", validators=[Optional(), Length(max=24)],
                       description="Prizes only: a winning tier of the programme's bowl, e.g. small, large, jumbo.")
    value_dollars = MoneyField("Nominal value ($)", validators=[DataRequired("Give the nominal value."),
                                                               Length(max=12)],
                               description="What the item is worth, e.g. 10.00; used for the cap and reports.")
    program_id = SelectField("Programme", coerce=optional_int, validate_choice=False,
                             description="Leave on every programme unless the item is for one programme only.")
    opening_stock = IntegerField("Opening stock", validators=[Optional(), NumberRange(0, 100_000)],
                                 description="How many are on the shelf now.")
    is_stocked = BooleanField("Count stock for this voucher (gift cards); leave off for unlimited services",
                              default=True)
    low_stock_threshold = IntegerField("Low-stock alert at", default=3,
                                       validators=[InputRequired("Give a threshold."), NumberRange(0, 100_000)])
    is_active = BooleanField("Offered to patients now", default=True)
    version = HiddenField()

    def set_programs(self, programs: list[Program]) -> None:
        self.program_id.choices = [SelectChoice("", "Every programme")] + [SelectChoice(p.id, p.name)
                                                                          for p in programs]


class RestockForm(FlaskForm):
    quantity = IntegerField("Quantity added", validators=[InputRequired("Say how many were added."),
                                                          NumberRange(1, 100_000, "Add at least 1.")])
    note = StringField("Note", validators=[Optional(), Length(max=500)],
                       description="Supplier, invoice or purchase order.")


class CountForm(FlaskForm):
    counted = IntegerField("Counted on the shelf", validators=[InputRequired("Give the number counted."),
                                                              NumberRange(0, 100_000, "Give 0 or more.")])
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class AdjustmentForm(FlaskForm):
    record_number = StringField("Patient record number", validators=[DataRequired("Give the record number."),
                                                                     Length(max=40)],
                                render_kw={"autocomplete": "off", "spellcheck": "false"})
    points = IntegerField("Points", default=0, validators=[Optional()],
                          description="Positive to add, negative to take away.")
    draws = IntegerField("Prize draws", default=0, validators=[Optional()],
                         description="Draw credits to add or take away (prize-draw programmes).")
    reason = StringField("Reason", validators=[DataRequired("Say why: manual adjustments are reviewed."),
                                               Length(max=500)],
                         description="Shown in the patient's ledger and reviewed by the programme.")


class HandoverLimitForm(FlaskForm):
    above_dollars = MoneyField("Confirm hand-overs above ($)", validators=[Optional(), Length(max=12)],
                               description="A prize hand-over worth more than this asks the staff member to confirm "
                                           "it. Leave empty to never ask.")
