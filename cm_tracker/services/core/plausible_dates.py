"""Plausible dates for what staff plan or record by the day: the end of an enrolment, an excuse, a clinic closure
(docs/desk.md, "Dates a clinic would expect").

A date far ahead is a typing error (2062 for 2026, a year of 9999) that would otherwise stay in the record for
decades, excuse visits nobody scheduled, or end an episode after its programme: a clinic plans these at most a year
ahead. The earliest date is the caller's rule (an enrolment's start; for a closure, the first enrolment's start).
"""

from __future__ import annotations

from datetime import date

# How far ahead a clinic plans an excuse, a closure or the end of an enrolment: one year.
YEARS_AHEAD = 1


def latest_planned_day(today: date) -> date:
    """The same date a year after `today` (28 February after a 29 February)."""
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def too_far_ahead(day: date, today: date) -> str | None:
    """A field message when `day` lies more than a year after `today`, else None."""
    latest = latest_planned_day(today)
    if day > latest:
        return f"Choose a day at most a year ahead, on or before {latest:%Y-%m-%d}."
    return None
