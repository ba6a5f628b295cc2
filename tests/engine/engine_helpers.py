"""Builders for engine tests: short codes for histories, so each test reads like the protocol it checks."""

from datetime import UTC, date, datetime, time, timedelta

from cm_tracker.engine import EscalatingSchedule, Outcome, TargetEvent

MONDAY = date(2025, 1, 6)  # a Monday, first day of ISO week 2 of 2025

# The test-vector schedule of docs/rules.md 4.4: 1 point = $0.25, start 10, step 5, bonus 40 every 3.
VOUCHERS = EscalatingSchedule(start=10, step=5, bonus_every=3, bonus=40)

_CODES = {
    "N": (Outcome.SUCCESS, "negative for cocaine"),
    "P": (Outcome.FAILURE, "positive for cocaine"),
    "M": (Outcome.FAILURE, "missed visit"),
    "X": (Outcome.NEUTRAL, "excused absence"),
}


def event(n: int, on: date, code: str, bonus: bool = False) -> TargetEvent:
    outcome, reason = _CODES[code]
    at = datetime.combine(on, time(9), UTC) + timedelta(minutes=n)
    return TargetEvent(("specimen", n), at, on, outcome, bonus_success=bonus, reason=reason)


def daily(codes: str, start: date = MONDAY) -> list[TargetEvent]:
    """One event a day: 'NNP' is a negative on day 1 and 2, a positive on day 3."""
    return [event(i, start + timedelta(days=i), code) for i, code in enumerate(codes.replace(" ", ""))]


def weekly(weeks: list[str], start: date = MONDAY, days: tuple[int, ...] = (0, 3)) -> list[TargetEvent]:
    """Events on Monday and Thursday of consecutive weeks: weekly(["NN", "NP"])."""
    events = []
    for w, codes in enumerate(weeks):
        for code, day in zip(codes, days, strict=False):
            events.append(event(len(events), start + timedelta(weeks=w, days=day), code))
    return events


def points(awards: list) -> list[int]:
    return [a.points for a in awards]
