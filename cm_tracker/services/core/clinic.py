"""The clinic's calendar: visit days, ISO weeks and cap windows follow the clinic's local dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from cm_tracker.services.core.context import clinic_settings
from cm_tracker.timeutil import utcnow


def clinic_zone() -> ZoneInfo:
    return clinic_settings().timezone


def clinic_date(moment: datetime) -> date:
    return moment.astimezone(clinic_zone()).date()


def clinic_today() -> date:
    return clinic_date(utcnow())


def start_of_day(day: date) -> datetime:
    """The UTC moment the clinic's day begins (for date-bounded queries on UTC timestamps)."""
    return datetime.combine(day, time.min, tzinfo=clinic_zone()).astimezone(UTC)
