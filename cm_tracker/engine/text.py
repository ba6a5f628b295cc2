"""Small wording helpers for the sentences that awards carry (docs/rules.md section 7)."""

from collections.abc import Sequence
from functools import lru_cache


def join_words(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


@lru_cache(maxsize=512)
def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def count(n: int, unit: str) -> str:
    """'1 point', '25 points', '1 draw'."""
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def money(cents: int) -> str:
    """Integer cents as dollars for the engine's English sentences: 59900 -> '$599.00', -250 -> '-$2.50'.

    The engine may import only the standard library, so this is cm_tracker.money.format_cents in English written out
    by hand; tests/test_money.py checks that the two agree. Everything outside the engine calls format_cents.
    """
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def capitalize(phrase: str) -> str:
    """Upper-case the first letter only, leaving analyte names as they are."""
    return phrase[:1].upper() + phrase[1:]
