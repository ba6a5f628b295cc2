"""Aware UTC time, and the clinic's calendar date, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# How far the tooling has moved the clock (clock_at); zero everywhere else.
_offset: ContextVar[timedelta] = ContextVar("clock_offset", default=timedelta(0))


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset.get()


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Run the block as if it were `moment`, the clock ticking from there.

    For the tooling only (the demo replays a clinic's history through the app's own use cases): every row a use
    case stamps with utcnow() then carries the moment its event happened, not the moment the demo was loaded. The
    app itself never moves its clock.
    """
    token = _offset.set(as_utc(moment) - datetime.now(UTC))
    try:
        yield
    finally:
        _offset.reset(token)


def clinic_date(moment: datetime, timezone: str) -> date:
    """The calendar date at the clinic for an aware moment (weeks and visit days follow the clinic's calendar)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive values are refused because their zone is unknowable."""
    if moment.tzinfo is None:
        raise ValueError("a time must carry its UTC offset")
    return moment.astimezone(UTC)
