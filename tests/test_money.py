"""Money in one place (cm_tracker/money.py): how cents are written and read, what points are worth, and checks that
no other module or template writes, reads or computes money its own way."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

import cm_tracker
from cm_tracker import money
from cm_tracker.engine import text

from helpers import sign_in

PACKAGE = Path(cm_tracker.__file__).parent
TEMPLATES = PACKAGE.parent / "templates"
NBSP = "\xa0"


@pytest.mark.parametrize(("cents", "english", "spanish"), [
    (-250, "-$2.50", f"-2,50{NBSP}US$"),
    (-1, "-$0.01", f"-0,01{NBSP}US$"),
    (0, "$0.00", f"0,00{NBSP}US$"),
    (5, "$0.05", f"0,05{NBSP}US$"),
    (625, "$6.25", f"6,25{NBSP}US$"),
    (99950, "$999.50", f"999,50{NBSP}US$"),
    (2_500_000, "$25,000.00", f"25.000,00{NBSP}US$"),
    (123_456_789, "$1,234,567.89", f"1.234.567,89{NBSP}US$"),
    (-123_456_789, "-$1,234,567.89", f"-1.234.567,89{NBSP}US$"),
])  # fmt: skip
def test_cents_are_written_in_the_readers_language(cents: int, english: str, spanish: str) -> None:
    assert (money.format_cents(cents), money.format_cents(cents, "es")) == (english, spanish)


@pytest.mark.parametrize("amount", [2.5, 250.0, "250", None])
def test_anything_but_integer_cents_is_refused_by_the_formatter(amount: object) -> None:
    with pytest.raises(TypeError):
        money.format_cents(amount)  # type: ignore[arg-type]


def test_a_whole_decimal_from_a_postgresql_sum_is_written_like_an_integer() -> None:
    from decimal import Decimal

    assert money.format_cents(Decimal(-250)) == "-$2.50"  # type: ignore[arg-type]


AMOUNTS = [*range(-100_000, 100_000, 7), *(10**k for k in range(12)), *(-(10**k) - 1 for k in range(12))]


def test_the_engines_english_sentences_write_money_exactly_as_the_formatter_does() -> None:
    differ = [c for c in AMOUNTS if text.money(c) != money.format_cents(c, "en")]
    assert not differ, f"engine.text.money drifts from money.format_cents at {differ[:5]}"


@pytest.mark.parametrize(("cents", "plain"), [
    (-250, "-2.50"), (-5, "-0.05"), (0, "0.00"), (7, "0.07"), (59900, "599.00"), (123_456_789, "1234567.89"),
    (None, ""),
])  # fmt: skip
def test_a_plain_amount_has_no_sign_of_currency_and_no_separator(cents: int | None, plain: str) -> None:
    assert money.plain_dollars(cents) == plain


@pytest.mark.parametrize(("typed", "cents"), [
    ("12", 1200), ("12.5", 1250), ("12.50", 1250), ("$12.50", 1250), ("1,234.50", 123450), ("$1,654.50", 165450),
    ("0.25", 25), (".25", 25), ("0", 0), ("  599.00 ", 59900), ("1,000,000", 100_000_000),
    ("9999999.99", 999_999_999),
])  # fmt: skip
def test_dollars_a_person_types_are_read_as_cents(typed: str, cents: int) -> None:
    assert money.parse_dollars(typed) == cents


@pytest.mark.parametrize("typed", [
    "5.999", "12.", "-2.50", "-$2.50", "$-2", "+5", "ten", "", " ", "$", ".", "1,23", "12,50", "1,2,3", "1 000",
    "12.5.0", "$$12", "12$", "1e3", "\u0661\u0662", "\uff11\uff12", "10000000", "0x10", "12.50 USD",
])  # fmt: skip
def test_anything_else_is_refused_with_one_message(typed: str) -> None:
    with pytest.raises(ValueError, match=re.escape(money.MESSAGE)):
        money.parse_dollars(typed)


@pytest.mark.parametrize(("typed", "cents"), [("-2.50", -250), ("-$2.50", -250), ("-0.05", -5), ("3", 300)])
def test_a_minus_sign_is_read_where_it_is_allowed(typed: str, cents: int) -> None:
    assert money.parse_dollars(typed, negative=True) == cents


@pytest.mark.parametrize("cents", [-250, -1, 0, 5, 59900, 999_999_999])
def test_a_plain_amount_reads_back_as_the_same_cents(cents: int) -> None:
    assert money.parse_dollars(money.plain_dollars(cents), negative=True) == cents


@pytest.mark.parametrize(("cents", "label"), [
    (0, "$0"), (62500, "$625"), (125_000, "$1,250"), (187_549, "$1,875"), (187_550, "$1,876"), (999_949, "$9,999"),
    (999_950, "$10K"), (1_250_000, "$12.5K"), (1_875_000, "$18.75K"), (125_000_000, "$1.25M"),
])  # fmt: skip
def test_chart_axes_are_written_in_whole_dollars_and_shortened_from_ten_thousand(cents: int, label: str) -> None:
    assert money.format_axis_cents(cents) == label


def test_the_spend_chart_labels_a_tick_between_two_cents_by_the_same_rule() -> None:
    from cm_tracker.reports.charts import dollars_label

    assert (dollars_label(62_499.75), dollars_label(1_875_000.0)) == ("$625", "$18.75K")


@pytest.mark.parametrize(("points", "point_value", "cents"), [(25, 25, 625), (-10, 25, -250), (0, 25, 0), (3, 0, 0)])
def test_points_are_worth_points_times_the_point_value(points: int, point_value: int, cents: int) -> None:
    assert money.points_value_cents(points, point_value) == cents


def test_the_money_module_imports_babel_and_the_standard_library_only() -> None:
    tree = ast.parse((PACKAGE / "money.py").read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    outside = {n for n in names if n.split(".")[0] not in sys.stdlib_module_names | {"babel"}}
    assert not outside, f"cm_tracker/money.py imports {outside}"


# Arithmetic or formatting of money that belongs to cm_tracker/money.py (a percentage's "* 100" is not money).
OWN_MONEY = re.compile(r"format_currency|format_compact_currency|// ?100\b|/ ?100\b|divmod\([^)]*\b100\)|\$\{")
OWNERS = {PACKAGE / "money.py", PACKAGE / "engine" / "text.py"}


def test_only_the_money_module_turns_cents_into_dollars() -> None:
    found = [f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}"
             for path in sorted(PACKAGE.rglob("*.py")) if path not in OWNERS
             for n, line in enumerate(path.read_text().splitlines(), start=1) if OWN_MONEY.search(line)]
    assert not found, "call cm_tracker.money instead:\n" + "\n".join(found)


TEMPLATE_MONEY_SUMS = re.compile(r"_cents\s*[-+*/]|[-+*/]\s*[\w.]*_cents\b|point_value_cents\s*\*|\|\s*lmoney")


def test_templates_format_money_with_the_one_filter_and_never_compute_it() -> None:
    found = [f"{path.relative_to(TEMPLATES)}:{n}: {line.strip()}" for path in sorted(TEMPLATES.rglob("*.html"))
             for n, line in enumerate(path.read_text().splitlines(), start=1) if TEMPLATE_MONEY_SUMS.search(line)]
    assert not found, "pass finished amounts from the query instead:\n" + "\n".join(found)


def test_the_most_a_patient_can_earn_says_what_the_cap_leaves() -> None:
    from datetime import date

    from cm_tracker.engine.maximum import MaxEarnable
    from cm_tracker.services.queries.program_schedules import MaximumPreview

    earnable = MaxEarnable(points=1000, cents=25_000, draws=0, expected_prize_cents=0, max_prize_cents=0,
                           cap_cents=59_900, fits_cap=True, per_target=())
    preview = MaximumPreview(earnable, date(2026, 1, 5), 24, {}, ())
    assert (preview.left_cents, preview.over_cents) == (34_900, 0)


def _owe_ten_points(app, patient_id: int) -> None:
    """A correction after a redemption took back more than was left: -10 points at 25 cents (docs/rules.md 6)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry, Patient

    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        db.session.add(LedgerEntry(patient_id=patient_id, enrollment_id=patient.enrollments[0].id,
                                   kind=EntryKind.ADJUSTMENT, points=-10, value_cents=-250,
                                   reason="Correction: lab positive"))
        db.session.commit()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_staff_page_shows_a_negative_balance_as_minus_two_dollars_fifty(app, client, personas) -> None:
    _owe_ten_points(app, personas.patient)
    sign_in(client, "cora")
    page = _text(client.get(f"/staff/patients/{personas.patient}").get_data(as_text=True))
    assert "worth -$2.50" in page


def test_the_portal_shows_a_negative_balance_in_the_patients_language(app, client, personas) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    _owe_ten_points(app, personas.patient)
    sign_in(client, "pat")
    assert "-$2.50" in _text(client.get("/portal/").get_data(as_text=True))
    with app.app_context():
        db.session.get(User, personas.patient_user).locale = "es"
        db.session.commit()
    assert f"-2,50{NBSP}US$" in client.get("/portal/").get_data(as_text=True)


def test_a_staff_page_is_in_english_money_whatever_the_browser_asks(app, client, personas) -> None:
    _owe_ten_points(app, personas.patient)
    sign_in(client, "cora")
    page = client.get(f"/staff/patients/{personas.patient}", headers={"Accept-Language": "es"})
    assert "-$2.50" in page.get_data(as_text=True) and "US$" not in page.get_data(as_text=True)
