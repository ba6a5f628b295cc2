"""A program's engine-facing rules: targets with their schedules, point value, cap (docs/rules.md sections 2, 4, 5).

Every patient of a program gets the same rules (equal opportunity, docs/rules.md 2). Other program fields
(name, weeks, visit days) belong to the services and are ignored here.
"""

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from cm_tracker.engine.fields import Reader, ScheduleError, require_object
from cm_tracker.engine.outcomes import DilutePolicy
from cm_tracker.engine.schedules import (
    BowlTier,
    FixedSchedule,
    PrizeDrawSchedule,
    Schedule,
    ScheduleVersions,
    read_schedule,
    schedule_in_force,
)


class TargetKind(StrEnum):
    ABSTINENCE = "abstinence"
    ATTENDANCE = "attendance"
    ACTIVITY = "activity"


class CapWindow(StrEnum):
    """The period a program's cap covers (docs/rules.md 5).

    calendar_year: 1 January to 31 December; rolling_365: the 365 days ending on the day of the award;
    episode: the whole enrollment.
    """

    CALENDAR_YEAR = "calendar_year"
    ROLLING_365 = "rolling_365"
    EPISODE = "episode"


@dataclass(frozen=True, slots=True)
class TargetRules:
    """One reinforced behaviour: its key, kind, name for patients, analyte set and schedule (docs/rules.md 2).

    A live program's schedule may change (docs/rules.md 4.5): `versions` then lists every version with the date it takes
    effect, oldest first, and each event is paid by the version in force on its date, so awards already given
    stand. `schedule` is the version in force now (the bowl and the program's maximum use it). Without
    `versions`, `schedule` has always applied.
    """

    key: Hashable
    kind: TargetKind
    label: str
    analytes: frozenset[str]
    schedule: Schedule
    versions: ScheduleVersions = ()

    @property
    def timeline(self) -> ScheduleVersions:
        """Every version with its effective date; a single schedule has been in force since forever."""
        return self.versions or ((date.min, self.schedule),)

    def schedule_on(self, day: date) -> Schedule:
        """The version in force on `day` (before the first version, the first)."""
        return schedule_in_force(self.versions, day) if self.versions else self.schedule


@dataclass(frozen=True, slots=True)
class ProgramRules:
    """What the engine needs of a program. Money is integer cents; `cap_cents` holds over `cap_window`."""

    point_value_cents: int
    cap_cents: int
    cap_window: CapWindow
    max_award_cents: int | None
    targets: tuple[TargetRules, ...]
    dilute_policy: DilutePolicy = DilutePolicy.FAILURE

    @property
    def bowl(self) -> tuple[BowlTier, ...] | None:
        """The program's prize bowl: draws are one pooled credit, drawn from one bowl (docs/api.md draws)."""
        for target in self.targets:
            if isinstance(target.schedule, PrizeDrawSchedule):
                return target.schedule.bowl
        return None

    def target(self, key: Hashable) -> TargetRules:
        for target in self.targets:
            if target.key == key:
                return target
        raise KeyError(key)


def parse_program_rules(data: Mapping[str, Any]) -> ProgramRules:
    """Validate the engine fields of a program's JSON (docs/api.md POST /programs) and build its rules.

    Raises ScheduleError with every bad field by dotted path ("targets.1.schedule.bowl.0.slips").
    """
    errors: dict[str, str] = {}
    if not require_object(data, "program", errors):
        raise ScheduleError(errors)
    r = Reader(data, "", errors)
    point_value = r.integer("point_value_cents", "the value of one point in cents", 1)
    cap = r.integer("cap_cents", "the most a patient may receive in the cap window, in cents", 0)
    window = r.choice("cap_window", CapWindow)
    max_award = r.integer("max_award_cents", "the most one award may be worth, in cents", 1, default=0) or None
    dilute = r.choice("dilute_policy", DilutePolicy, DilutePolicy.FAILURE)
    targets = _read_targets(r)
    if errors:
        raise ScheduleError(errors)
    return ProgramRules(point_value, cap, window, max_award, targets, dilute)


validate_program_rules = parse_program_rules


def _read_targets(r: Reader) -> tuple[TargetRules, ...]:
    items = r.data.get("targets")
    if not isinstance(items, list) or not items:
        r.fail("targets", "Required: a non-empty list of targets, each with key, kind and schedule.")
        return ()
    targets = [_read_target(item, f"targets.{i}.", r.errors) for i, item in enumerate(items)]
    seen: set[object] = set()
    for i, target in enumerate(targets):
        if target is not None and target.key in seen:
            r.fail(f"targets.{i}.key", f"The key {target.key!r} is used by another target of this program.")
        elif target is not None:
            seen.add(target.key)
    _check_one_bowl(r, targets)
    return tuple(t for t in targets if t is not None)


def _check_one_bowl(r: Reader, targets: list[TargetRules | None]) -> None:
    """Draws are a single credit drawn from one bowl, so every prize schedule of a program shares its bowl,
    and fixed draws need one to draw from."""
    bowls = [(i, t.schedule.bowl) for i, t in enumerate(targets) if t and isinstance(t.schedule, PrizeDrawSchedule)]
    for i, bowl in bowls[1:]:
        if bowl != bowls[0][1]:
            r.fail(f"targets.{i}.schedule.bowl", "Every prize draw target of a program must use the same bowl.")
    for i, target in enumerate(targets):
        if target and isinstance(target.schedule, FixedSchedule) and target.schedule.draws and not bowls:
            r.fail(f"targets.{i}.schedule.draws", "Draws need a prize bowl: add a prize_draws target, or give points.")


def _read_target(item: object, prefix: str, errors: dict[str, str]) -> TargetRules | None:
    if not require_object(item, prefix.rstrip("."), errors):
        return None
    r = Reader(item, prefix, errors)
    r.refuse_unknown(("key", "kind", "label", "analytes", "schedule"), "a target")
    key = r.text("key", "a short key naming the target, such as stimulants")
    kind = r.choice("kind", TargetKind)
    label = item.get("label") if isinstance(item.get("label"), str) else None
    analytes = _read_analytes(r, kind)
    schedule = read_schedule(item.get("schedule"), f"{prefix}schedule.", errors)
    if schedule is not None and kind is not None:
        _check_fit(r, kind, schedule)
    if None in (key, kind, analytes, schedule):
        return None
    return TargetRules(key, kind, (label or key.replace("_", " ")).strip(), analytes, schedule)


def _read_analytes(r: Reader, kind: TargetKind | None) -> frozenset[str] | None:
    if kind == TargetKind.ABSTINENCE:
        return r.names("analytes", "the analytes whose negative result is reinforced", required=True)
    if r.data.get("analytes") not in (None, []):  # not only a non-empty list: any other value is no list at all
        r.fail("analytes", "Only abstinence targets have analytes.")
        return None
    return frozenset()


def _check_fit(r: Reader, kind: TargetKind, schedule: Schedule) -> None:
    """Bonus analytes are read from a specimen, so only an abstinence target can have them (docs/rules.md 4.2)."""
    if isinstance(schedule, PrizeDrawSchedule) and schedule.bonus_analytes and kind != TargetKind.ABSTINENCE:
        r.fail("schedule.bonus_analytes", "Only abstinence targets can earn bonus draws for other analytes.")
