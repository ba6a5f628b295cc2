"""Money, in one place: how cents are written for a reader, written as a plain number, read from what a person typed,
and what points are worth (docs/architecture.md, "One owner per rule").

Amounts are integer cents everywhere; a float never holds money, and a float given here is refused.

- `format_cents(cents, locale)` is the one way an amount is written for a reader: CLDR's currency pattern for US
  dollars in the reader's language, through Babel. -250 is "-$2.50" in English and "-2,50 US$" in Spanish. Pages use
  it through the `money` template filter, which passes the request's language (staff pages are always English, the
  portal speaks the patient's language); staff messages and ledger reasons written outside the engine call it with
  the default, English. `format_axis_cents` is the same pattern in whole dollars, for chart axes.
- `plain_dollars(cents)` is the amount as a plain number, "-2.50": the value of a money input, which
  `parse_dollars` reads back, and the dollar columns of CSV exports.
- `parse_dollars(text)` is the one reader of dollars typed by a person, "12", "12.5", "$1,234.50"; anything else
  is refused with `MESSAGE`.
- `points_value_cents(points, point_value)` is what points are worth, for balances, adjustments, redemptions and
  reports. The engine values its own awards inside its evaluation, because it imports nothing of ours.

The engine writes English sentences into the ledger ("cut to 4 points: the $599.00 limit for this calendar year is
reached") and may import only the standard library, so it cannot call Babel. It keeps `engine.text.money`, the
English form of this same rule written out by hand; tests/test_money.py checks that it agrees with
`format_cents(..., "en")` over a sweep of amounts, so the two cannot drift apart. This module imports Babel and
nothing of ours (no Flask, no models), so every tier above the engine may use it.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_compact_currency, format_currency

CURRENCY = "USD"
DEFAULT_LOCALE = "en"
MESSAGE = "Give dollars and cents, such as 599.00."
MAX_CENTS = 999_999_999  # $9,999,999.99: what a person may type, within a 32-bit integer column
COMPACT_FROM = Decimal(10_000)  # chart axes write $10,000 and more as "$10K"
AMOUNT_RE = re.compile(r"(?P<sign>-?)\$?(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.(?P<part>[0-9]{1,2}))?")


def _dollars(cents: int) -> Decimal:
    """Cents as exact dollars. A float, or a fraction of a cent, is refused rather than rounded."""
    if isinstance(cents, int):
        return Decimal(cents).scaleb(-2)
    if isinstance(cents, Decimal) and cents == cents.to_integral_value():
        return Decimal(int(cents)).scaleb(-2)  # PostgreSQL returns a sum of integers as numeric
    raise TypeError(f"money is integer cents, not {cents!r}")


def format_cents(cents: int, locale: str = DEFAULT_LOCALE) -> str:
    """99950 -> "$999.50", -250 -> "-$2.50", 0 -> "$0.00"; in Spanish "999,50 US$" (a no-break space before US$)."""
    return _formatted(_dollars(cents), locale)


@lru_cache(maxsize=4096)
def _formatted(dollars: Decimal, locale: str) -> str:
    # A caseload page writes a hundred or more amounts, many alike (prices, caps, balances), and Babel's
    # formatting is the costliest step of writing one; the text depends only on the amount and the language.
    return format_currency(dollars, CURRENCY, locale=locale)


@lru_cache(maxsize=16)
def _whole_dollar_pattern(locale: str) -> str:
    return Locale.parse(locale).currency_formats["standard"].pattern.replace(".00", "")


def format_axis_cents(cents: int, locale: str = DEFAULT_LOCALE) -> str:
    """An axis label in whole dollars, short from ten thousand: 187500 -> "$1,875", 1875000 -> "$18.75K"."""
    dollars = _dollars(cents).quantize(Decimal(1), ROUND_HALF_UP)
    if abs(dollars) >= COMPACT_FROM:
        return format_compact_currency(dollars, CURRENCY, locale=locale, fraction_digits=2)
    return format_currency(dollars, CURRENCY, _whole_dollar_pattern(locale), locale=locale, currency_digits=False)


def plain_dollars(cents: int | None) -> str:
    """59900 -> "599.00", -250 -> "-2.50", None -> "": no currency sign and no thousands separator."""
    if cents is None:
        return ""
    return f"{_dollars(cents):f}"


def parse_dollars(text: str, *, negative: bool = False) -> int:
    """What a person typed as integer cents: "12" -> 1200, "12.5" -> 1250, "$1,234.50" -> 123450.

    Commas only between groups of three digits, at most two decimals, nothing over $9,999,999.99, and a minus sign
    only where `negative` allows it; anything else raises ValueError with `MESSAGE`.
    """
    match = AMOUNT_RE.fullmatch(text.strip())
    if not match or not (match["whole"] or match["part"]) or (match["sign"] and not negative):
        raise ValueError(MESSAGE)
    whole = int((match["whole"] or "0").replace(",", ""))
    cents = whole * 100 + int((match["part"] or "").ljust(2, "0"))
    if cents > MAX_CENTS:
        raise ValueError(MESSAGE)
    return -cents if match["sign"] else cents


def points_value_cents(points: int, point_value_cents: int) -> int:
    """What `points` are worth at the programme's point value (docs/rules.md 5): points x point value.

    Also takes SQLAlchemy columns, so that a sum in SQL values points by the same rule.
    """
    return points * point_value_cents
