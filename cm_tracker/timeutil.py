"""Aware UTC time, and the clinic's calendar date, in one place."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def clinic_date(moment: datetime, timezone: str) -> date:
    """The calendar date at the clinic for an aware moment (weeks and visit days follow the clinic's calendar)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive values are refused because their zone is unknowable."""
    if moment.tzinfo is None:
        raise ValueError("a time must carry its UTC offset")
    return moment.astimezone(UTC)
