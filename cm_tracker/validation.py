"""Shape rules shared by page forms, the API and the services: what fits a row id, what text may hold.

Both are limits of the database rather than of the protocol: ids are 32-bit INTEGER columns (PostgreSQL raises on
anything larger, SQLite's driver on anything beyond 64 bits), and PostgreSQL refuses NUL in text.
"""

from __future__ import annotations

MAX_ROW_ID = 2_147_483_647


def is_row_id(value: object) -> bool:
    """An int that some row could have as its id."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ROW_ID


def row_id(raw: str) -> int:
    """A row id written in decimal, for `request.args.get(..., type=row_id)`: ValueError for anything else."""
    if not raw.isdigit() or not is_row_id(int(raw)):
        raise ValueError(f"not a row id: {raw[:20]!r}")
    return int(raw)


def has_control_characters(value: str) -> bool:
    """NUL and friends: PostgreSQL refuses NUL in text, and no name or number needs any of them."""
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
