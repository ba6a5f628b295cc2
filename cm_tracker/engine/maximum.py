"""The most a patient can earn under a program: every scheduled visit a success (docs/rules.md 1, 4, 5).

The schedule editor shows this beside the cap, so a clinic sees before enrolling anyone whether the cap
will cut the schedule short (CA-style programs) or never bind (Higgins: $997.50 at most).
"""

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from cm_tracker.engine.bowl import expected_value_cents
from cm_tracker.engine.evaluate import evaluate_target
from cm_tracker.engine.events import TargetEvent
from cm_tracker.engine.outcomes import Outcome
from cm_tracker.engine.rules import ProgramRules
from cm_tracker.engine.schedules import EscalatePer, FixedSchedule, Schedule


@dataclass(frozen=True, slots=True)
class TargetMaximum:
    key: Hashable
    visits: int
    points: int
    draws: int


@dataclass(frozen=True, slots=True)
class MaxEarnable:
    """Totals if every visit is a success (and every specimen also earns its bonus draws).

    `points` already respect the per-award ceiling but not the cap; `cents` is their value.
    `expected_prize_cents` and `max_prize_cents` value the draws at the bowl's average and best slip.
    `fits_cap` says whether the points and the expected prizes together stay within the cap.
    """

    points: int
    cents: int
    draws: int
    expected_prize_cents: int
    max_prize_cents: int
    cap_cents: int
    fits_cap: bool
    per_target: tuple[TargetMaximum, ...]


def max_earnable(rules: ProgramRules, visits: Mapping[Hashable, int | Sequence[date]]) -> MaxEarnable:
    """The most each target and the program can earn over the given visits.

    `visits` maps a target key to its visit dates, or to a number of visits for schedules that do not
    escalate by calendar week (where the dates do not matter).
    """
    per_target = tuple(_target_maximum(rules, t.key, t.schedule, visits.get(t.key, 0)) for t in rules.targets)
    points = sum(t.points for t in per_target)
    draws = sum(t.draws for t in per_target)
    cents = points * rules.point_value_cents
    expected, best = _prize_values(rules, draws)
    return MaxEarnable(
        points, cents, draws, expected, best, rules.cap_cents, cents + expected <= rules.cap_cents, per_target
    )


def _target_maximum(
    rules: ProgramRules, key: Hashable, schedule: Schedule, visits: int | Sequence[date]
) -> TargetMaximum:
    dates = _dates(schedule, visits)
    events = [
        TargetEvent(i, datetime.combine(day, time(12), UTC), day, Outcome.SUCCESS, bonus_success=True)
        for i, day in enumerate(dates)
    ]
    awards = evaluate_target(schedule, events)
    ceiling = _ceiling_points(rules)
    points = sum(a.points if ceiling is None else min(a.points, ceiling) for a in awards)
    return TargetMaximum(key, len(dates), points, sum(a.draws for a in awards))


def _dates(schedule: Schedule, visits: int | Sequence[date]) -> Sequence[date]:
    if not isinstance(visits, int):
        return visits
    if not isinstance(schedule, FixedSchedule) and schedule.escalate_per == EscalatePer.WEEK:
        raise ValueError("a schedule that escalates by calendar week needs visit dates, not a count")
    return [date(2001, 1, 1) + timedelta(days=i) for i in range(visits)]


def _ceiling_points(rules: ProgramRules) -> int | None:
    if rules.max_award_cents is None:
        return None
    return rules.max_award_cents // rules.point_value_cents


def _prize_values(rules: ProgramRules, draws: int) -> tuple[int, int]:
    bowl = rules.bowl
    if not bowl or not draws:
        return 0, 0
    best = max(t.value_cents for t in bowl)
    if rules.max_award_cents is not None:
        best = min(best, rules.max_award_cents)
    return expected_value_cents(bowl, draws), draws * best
