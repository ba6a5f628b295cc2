"""Shape rules shared by page forms, the API and the services: what fits a row id, what text may hold, which dates
the calendar can carry.

They are limits of the database and of Python rather than of the protocol: ids are 32-bit INTEGER columns
(PostgreSQL raises on anything larger, SQLite's driver on anything beyond 64 bits), PostgreSQL refuses NUL in text,
no driver can encode half a UTF-16 surrogate pair, and Python's calendar ends at the years 1 and 9999.
"""

from __future__ import annotations

import re
from datetime import date

MAX_ROW_ID = 2_147_483_647
_SURROGATE = re.compile("[\ud800-\udfff]")


def is_row_id(value: object) -> bool:
    """An int that some row could have as its id."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ROW_ID


def is_decimal(raw: str) -> bool:
    """ASCII digits, which `int` reads: `str.isdigit` also says yes to "²", which `int` refuses."""
    return raw.isascii() and raw.isdigit()


def row_id(raw: str) -> int:
    """A row id written in decimal, for `request.args.get(..., type=row_id)`: ValueError for anything else."""
    if not (is_decimal(raw) and len(raw) <= 10) or not is_row_id(int(raw)):
        raise ValueError(f"not a row id: {raw[:20]!r}")
    return int(raw)


def has_control_characters(value: str) -> bool:
    """NUL and friends: PostgreSQL refuses NUL in text, and no name or number needs any of them."""
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


def has_lone_surrogate(value: str) -> bool:
    """Half a UTF-16 pair, which JSON's `\\u` escapes can carry but UTF-8 cannot: no driver can store it."""
    return _SURROGATE.search(value) is not None


# Moving a time near either end of Python's calendar to UTC or to the clinic's zone, or adding a programme's weeks to
# it, overflows. No record of a clinic lies within centuries of either end, so every parser of a date or a time
# refuses one outside these years; whether a date inside them is plausible for a record is the services' rule.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
CALENDAR_MESSAGE = f"Must fall between the years {EARLIEST_YEAR} and {LATEST_YEAR}."


def in_calendar(value: date) -> bool:
    """A date, or a time by the date written in it (before any change of zone), that no later step can overflow."""
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR
