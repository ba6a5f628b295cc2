"""Reinforcement schedules: what each success earns (docs/rules.md section 4).

Three kinds, each stored as JSON on a program target:
- `escalating` (4.1): points that grow with consecutive successes and reset on a failure;
- `prize_draws` (4.2): the same ladder in draws from a fishbowl of prize slips;
- `fixed` (4.3): the same points or draws on every success.
All amounts are integers: points, draws, cents.
"""

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from cm_tracker.engine.fields import Reader, ScheduleError, require_object

__all__ = [
    "BowlTier",
    "EscalatePer",
    "EscalatingSchedule",
    "FixedSchedule",
    "PrizeDrawSchedule",
    "Schedule",
    "ScheduleError",
    "ScheduleKind",
    "ScheduleVersions",
    "parse_schedule",
    "schedule_in_force",
    "schedule_to_dict",
    "version_in_force",
]


class ScheduleKind(StrEnum):
    ESCALATING = "escalating"
    PRIZE_DRAWS = "prize_draws"
    FIXED = "fixed"


class EscalatePer(StrEnum):
    """Whether the value rises with every consecutive success or once per calendar week (docs/rules.md 4.1)."""

    SAMPLE = "sample"
    WEEK = "week"


@dataclass(frozen=True, slots=True)
class EscalatingSchedule:
    """Escalating points with reset and optional recovery (docs/rules.md 4.1; Higgins and Budney, NIDA manual 2).

    A success at level n pays `min(start + step * n, max)`; every `bonus_every`-th success of a run also pays
    `bonus`, which `max` does not limit. `recovery_after` consecutive successes after a reset restore the
    earlier, higher level (0 = never).
    """

    kind: ClassVar[ScheduleKind] = ScheduleKind.ESCALATING
    start: int
    step: int = 0
    max: int | None = None
    bonus_every: int = 0
    bonus: int = 0
    escalate_per: EscalatePer = EscalatePer.SAMPLE
    recovery_after: int = 0


@dataclass(frozen=True, slots=True)
class BowlTier:
    """One kind of slip in the prize bowl: how many slips, and the nominal value of the prize it wins."""

    tier: str
    slips: int
    value_cents: int


@dataclass(frozen=True, slots=True)
class PrizeDrawSchedule:
    """Escalating draws from a prize bowl (docs/rules.md 4.2; Petry, CTN-0006 and CTN-0007).

    The ladder is that of 4.1 counted in draws. A success that is also negative for `bonus_analytes`
    earns `bonus_draws` more, which `max_draws` does not limit.
    """

    kind: ClassVar[ScheduleKind] = ScheduleKind.PRIZE_DRAWS
    start_draws: int
    bowl: tuple[BowlTier, ...]
    step_draws: int = 0
    max_draws: int | None = None
    escalate_per: EscalatePer = EscalatePer.SAMPLE
    recovery_after: int = 0
    bonus_draws: int = 0
    bonus_analytes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FixedSchedule:
    """The same points (or draws) on every success; failures and neutrals earn and reset nothing (docs/rules.md 4.3)."""

    kind: ClassVar[ScheduleKind] = ScheduleKind.FIXED
    points: int = 0
    draws: int = 0


Schedule = EscalatingSchedule | PrizeDrawSchedule | FixedSchedule

# A target's schedule as it changed over time: (effective date, schedule) pairs, oldest first. Two versions on
# one date: the later in the sequence replaces the earlier.
ScheduleVersions = tuple[tuple[date, Schedule], ...]


def version_in_force(effective_dates: Sequence[date], day: date) -> int:
    """Index of the version in force on `day`: the latest effective on or before it; before the first, the first."""
    return max(bisect_right(effective_dates, day) - 1, 0)


def schedule_in_force(versions: ScheduleVersions, day: date) -> Schedule:
    return versions[version_in_force([effective_on for effective_on, _ in versions], day)][1]

_ESCALATING_KEYS = ("kind", "start", "step", "max", "bonus_every", "bonus", "escalate_per", "recovery_after")
_PRIZE_KEYS = (
    "kind", "start_draws", "step_draws", "max_draws", "escalate_per", "recovery_after",
    "bonus_draws", "bonus_analytes", "bowl",
)  # fmt: skip
_FIXED_KEYS = ("kind", "points", "draws")
_TIER_KEYS = ("tier", "slips", "value_cents")


def parse_schedule(data: Mapping[str, Any], prefix: str = "") -> Schedule:
    """Validate the JSON of a schedule (docs/rules.md 4) and build it.

    Raises ScheduleError naming every bad field by its dotted path, prefixed with `prefix`
    (e.g. "targets.0.schedule.").
    """
    errors: dict[str, str] = {}
    schedule = read_schedule(data, prefix, errors)
    if errors or schedule is None:
        raise ScheduleError(errors)
    return schedule


def read_schedule(data: object, prefix: str, errors: dict[str, str]) -> Schedule | None:
    """Like parse_schedule, but adds problems to `errors` instead of raising."""
    if not require_object(data, prefix.rstrip("."), errors):
        return None
    reader = Reader(data, prefix, errors)
    kind = reader.choice("kind", ScheduleKind)
    readers = {
        ScheduleKind.ESCALATING: _read_escalating,
        ScheduleKind.PRIZE_DRAWS: _read_prize_draws,
        ScheduleKind.FIXED: _read_fixed,
    }
    if kind is None:
        return None
    before = len(errors)
    schedule = readers[kind](reader)
    return schedule if len(errors) == before else None


def _read_escalating(r: Reader) -> EscalatingSchedule | None:
    r.refuse_unknown(_ESCALATING_KEYS, "an escalating schedule")
    start = r.integer("start", "the points a first success earns", 1)
    step = r.integer("step", "the points added for each consecutive success", 0, default=0)
    maximum = _read_max(r, "max", start, "the most points one success can earn")
    bonus_every, bonus = _read_bonus(r)
    per = r.choice("escalate_per", EscalatePer, EscalatePer.SAMPLE)
    recovery = r.integer("recovery_after", "the successes in a row that restore the earlier value", 0, default=0)
    if None in (start, step, bonus_every, bonus, per, recovery):
        return None
    return EscalatingSchedule(start, step, maximum, bonus_every, bonus, per, recovery)


def _read_max(r: Reader, name: str, start: int | None, what: str) -> int | None:
    if not r.has(name):
        return None
    maximum = r.integer(name, what, 1)
    if maximum is not None and start is not None and maximum < start:
        r.fail(name, f"Must be at least the starting value ({start}): {what}.")
    return maximum


def _read_bonus(r: Reader) -> tuple[int | None, int | None]:
    every = r.integer("bonus_every", "how many successes in a row earn a bonus", 1, default=0)
    bonus = r.integer("bonus", "the extra points of the bonus", 1, default=0)
    if r.has("bonus_every") and not r.has("bonus"):
        r.fail("bonus", "Required when “Bonus on every … success in a row” is set: the extra points of the bonus.")
    if r.has("bonus") and not r.has("bonus_every"):
        r.fail("bonus_every", "Required when “Bonus points” is set: how many successes in a row earn the bonus.")
    return every, bonus


def _read_prize_draws(r: Reader) -> PrizeDrawSchedule | None:
    r.refuse_unknown(_PRIZE_KEYS, "a prize draw schedule")
    start = r.integer("start_draws", "the draws a first success earns", 1)
    step = r.integer("step_draws", "the draws added for each consecutive success", 0, default=0)
    maximum = _read_max(r, "max_draws", start, "the most draws one success can earn")
    per = r.choice("escalate_per", EscalatePer, EscalatePer.SAMPLE)
    recovery = r.integer("recovery_after", "the successes in a row that restore the earlier value", 0, default=0)
    bonus_draws = r.integer("bonus_draws", "the extra draws for also being negative for the bonus analytes", 0, 0)
    bonus_analytes = r.names("bonus_analytes", "the analytes that earn bonus draws", required=False)
    if bonus_draws and not bonus_analytes and bonus_analytes is not None:
        r.fail("bonus_analytes", "Required when “Bonus draws” is set: the analytes that earn bonus draws.")
    if bonus_analytes and not bonus_draws and bonus_draws is not None:
        r.fail("bonus_draws", "Required when “Bonus analytes” is set: the extra draws they earn (1 or more).")
    bowl = _read_bowl(r)
    if None in (start, step, per, recovery, bonus_draws, bonus_analytes, bowl):
        return None
    return PrizeDrawSchedule(start, bowl, step, maximum, per, recovery, bonus_draws, bonus_analytes)


def _read_bowl(r: Reader) -> tuple[BowlTier, ...] | None:
    items = r.data.get("bowl")
    if not isinstance(items, list) or not items:
        r.fail("bowl", "Required: a list of tiers, each with its tier name, slips and value_cents.")
        return None
    before = len(r.errors)
    tiers = tuple(_read_tier(item, r.path(f"bowl.{i}."), r.errors) for i, item in enumerate(items))
    seen: set[str] = set()
    for i, item in enumerate(items):
        name = item.get("tier") if isinstance(item, Mapping) else None
        if isinstance(name, str) and name.strip() in seen:
            r.fail(f"bowl.{i}.tier", f"The tier {name.strip()!r} appears twice in the bowl.")
        elif isinstance(name, str):
            seen.add(name.strip())
    if len(r.errors) > before:
        return None
    if sum(t.slips for t in tiers) == 0:
        r.fail("bowl", "The bowl needs at least one slip.")
        return None
    return tiers


def _read_tier(item: object, prefix: str, errors: dict[str, str]) -> BowlTier | None:
    if not require_object(item, prefix.rstrip("."), errors):
        return None
    r = Reader(item, prefix, errors)
    r.refuse_unknown(_TIER_KEYS, "a bowl tier")
    name = r.text("tier", "the tier name, such as good_job or small")
    slips = r.integer("slips", "the number of slips of this tier in the bowl", 0)
    value = r.integer("value_cents", "the nominal prize value in cents", 0)
    if name is None or slips is None or value is None:
        return None
    return BowlTier(name, slips, value)


def _read_fixed(r: Reader) -> FixedSchedule | None:
    r.refuse_unknown(_FIXED_KEYS, "a fixed schedule")
    if r.has("points") and r.has("draws"):
        r.fail("draws", "Give points or draws for each success, not both.")
        return None
    if not r.has("points") and not r.has("draws"):
        r.fail("points", "Required: the points (or draws) each success earns.")
        return None
    name = "points" if r.has("points") else "draws"
    amount = r.integer(name, f"the {name} each success earns", 1)
    if amount is None:
        return None
    return FixedSchedule(points=amount) if name == "points" else FixedSchedule(draws=amount)


def schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    """The JSON form of a schedule; parse_schedule(schedule_to_dict(s)) == s."""
    if isinstance(schedule, FixedSchedule):
        name = "points" if schedule.points else "draws"
        return {"kind": schedule.kind.value, name: getattr(schedule, name)}
    if isinstance(schedule, EscalatingSchedule):
        data: dict[str, Any] = {"kind": schedule.kind.value, "start": schedule.start, "step": schedule.step}
        _put(data, "max", schedule.max)
        if schedule.bonus_every:
            data |= {"bonus_every": schedule.bonus_every, "bonus": schedule.bonus}
        return data | {"escalate_per": schedule.escalate_per.value, "recovery_after": schedule.recovery_after}
    data = {"kind": schedule.kind.value, "start_draws": schedule.start_draws, "step_draws": schedule.step_draws}
    _put(data, "max_draws", schedule.max_draws)
    data |= {"escalate_per": schedule.escalate_per.value, "recovery_after": schedule.recovery_after}
    if schedule.bonus_draws:
        data |= {"bonus_draws": schedule.bonus_draws, "bonus_analytes": sorted(schedule.bonus_analytes)}
    data["bowl"] = [{"tier": t.tier, "slips": t.slips, "value_cents": t.value_cents} for t in schedule.bowl]
    return data


def _put(data: dict[str, Any], name: str, value: int | None) -> None:
    if value is not None:
        data[name] = value
