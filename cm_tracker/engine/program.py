"""Evaluating a patient's whole program: every target, then the program's limits (docs/rules.md sections 4, 5, 7).

Each target is evaluated under its own schedule (each event under the version in force on its date); then
all points awards are walked in the order they happened (time, event key, target order) and any that would
pass the per-award ceiling or the cap is cut to what fits, in whole points. Draws are not valued when
earned: the prize a draw wins is valued at the desk (cap_prize_tier) and comes back here as a CapSpend.

The walk stops once an episode's cap is used (engine/caps.py says why that is exact, and what a calendar year or
a rolling window may skip): the awards left are cut to nothing at once, with no arithmetic. A cut award keeps what
the original's sentence needs and says "...; no points paid: the $599.00 limit ... is reached" only when its
explanation is read (engine/explain.py says why sentences are lazy).
"""

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import repeat
from operator import attrgetter

from cm_tracker.engine.caps import CAP, CEILING, cap_cuts, cap_used_cents, limit_phrase
from cm_tracker.engine.evaluate import NextPreview, evaluate_ordered, evaluate_versions, preview_next
from cm_tracker.engine.events import Award, TargetEvent, Why, build_award, in_order
from cm_tracker.engine.ladder import ladder_of
from cm_tracker.engine.rules import ProgramRules, TargetRules
from cm_tracker.engine.schedules import FixedSchedule
from cm_tracker.engine.text import count, money


@dataclass(frozen=True, slots=True)
class CapSpend:
    """Value counted against the cap that is not an engine award: a prize handed over at the desk."""

    at: datetime
    on: date
    value_cents: int


@dataclass(frozen=True, slots=True)
class ProgramEvaluation:
    """The final awards of one enrollment, after limits.

    `awards` maps (target key, event key) to its Award; `by_target` lists each target's awards in the order
    the events happened.
    """

    rules: ProgramRules
    awards: Mapping[tuple[Hashable, Hashable], Award]
    by_target: Mapping[Hashable, tuple[Award, ...]]
    spends: tuple[CapSpend, ...]

    def award(self, target: Hashable, key: Hashable) -> Award:
        return self.awards[(target, key)]

    @property
    def points(self) -> int:
        return sum(a.points for a in self.awards.values())

    @property
    def draws(self) -> int:
        return sum(a.draws for a in self.awards.values())

    @property
    def value_cents(self) -> int:
        """Value of the points awarded (prizes won are in `spends`)."""
        return sum(a.value_cents for a in self.awards.values())

    def cap_used_cents(self, on: date) -> int:
        """Awards and prizes counted against the cap in the window that ends on `on`."""
        entries = [(a.on, a.value_cents) for a in self.awards.values() if a.value_cents]
        entries += [(s.on, s.value_cents) for s in self.spends]
        return cap_used_cents(self.rules.cap_window, entries, on)

    def cap_remaining_cents(self, on: date) -> int:
        return max(0, self.rules.cap_cents - self.cap_used_cents(on))


def evaluate_program(
    rules: ProgramRules,
    events: Mapping[Hashable, Sequence[TargetEvent]],
    spends: Sequence[CapSpend] = (),
) -> ProgramEvaluation:
    """Evaluate every target's events, then apply the program's limits (docs/rules.md 5).

    `events` maps a target key to that target's events, in any order. The result does not depend on the
    order events were given in.
    """
    unknown = set(events) - {t.key for t in rules.targets}
    if unknown:
        raise ValueError(f"events for targets this program does not have: {sorted(map(str, unknown))}")
    pv = rules.point_value_cents
    lists = [_target_awards(t, in_order(events.get(t.key, ())), pv) for t in rules.targets]
    if _limits_may_bind(rules, lists, spends):
        _apply_limits(rules, lists, spends)
    by_target = {t.key: tuple(awards) for t, awards in zip(rules.targets, lists, strict=True)}
    flat: dict[tuple[Hashable, Hashable], Award] = {}
    for target, awards in by_target.items():
        flat.update(zip(zip(repeat(target), map(_key, awards)), awards, strict=True))  # {(target, a.key): a}
    return ProgramEvaluation(rules, flat, by_target, tuple(spends))


def _target_awards(target: TargetRules, ordered: Sequence[TargetEvent], point_value: int) -> list[Award]:
    if target.versions:
        return evaluate_versions(target.versions, ordered, target.label, point_value)
    return evaluate_ordered(target.schedule, ordered, target.label, point_value)


def _limits_may_bind(rules: ProgramRules, lists: list[list[Award]], spends: Sequence[CapSpend]) -> bool:
    """False when even all awards and spends together fit every window and no award passes the ceiling."""
    ceiling = rules.max_award_cents
    total = sum(s.value_cents for s in spends)
    for awards in lists:
        total += sum(map(_value, awards))
        if ceiling is not None and awards and max(map(_value, awards)) > ceiling:
            return True
    return total > rules.cap_cents


_value = attrgetter("value_cents")
_key = attrgetter("key")


def _apply_limits(rules: ProgramRules, lists: list[list[Award]], spends: Sequence[CapSpend]) -> None:
    """Walk the points awards in the order they happened and cut, in place, those that do not fit.

    A cut award is the original with the points kept, and a `why` that words the original's sentence and then the
    cut (_cut_text): the original's explainer can word the cut award too, because a cut keeps every fact it reads
    (level, run, bonus, recovery, outcome; engine/explain.py). One such `why` per original `why` and limit.
    """
    owners, indices, walk = _walk(lists)
    pv = rules.point_value_cents
    cuts, stopped = cap_cuts(rules.cap_window, rules.cap_cents, rules.max_award_cents, pv, walk,
                             [(s.on, s.value_cents) for s in spends])  # fmt: skip
    # The walk's own references go now, so that each award replaced below is freed at once: a long history keeps
    # no second copy of its cut awards alive, for the garbage collector to move and scan.
    del walk
    limits = {
        CEILING: f"one award may be worth at most {money(rules.max_award_cents or 0)}",
        CAP: f"{limit_phrase(rules.cap_window, rules.cap_cents)} is reached",
    }
    # Keyed by the original `why`'s id: each original is held by its award or by its cut `why` here until the pass
    # ends, so no id is reused during it.
    whys: dict[str, dict[int, Why]] = {CEILING: {}, CAP: {}}
    for position, kept, limit in cuts:
        awards, index = owners[position], indices[position]
        # The award's own fields but points, why, value and capped (the field order of engine.events.Award).
        key, at, on, outcome, _, draws, level, run, bonus_points, bonus_draws, recovered, original, _, _ = \
            awards[index]
        same = whys[limit]
        why = same.get(id(original))
        if why is None:
            why = same[id(original)] = (_cut_text, original, limits[limit])
        awards[index] = build_award(Award, (key, at, on, outcome, kept // pv, draws, level, run, bonus_points,
                                            bonus_draws, recovered, why, kept, True))  # fmt: skip
    if stopped < len(indices):
        # The cap is used: every award left keeps nothing (engine/caps.py). The program's hot case once a cap
        # binds, so one loop without the cut bookkeeping above.
        same, phrase = whys[CAP], limits[CAP]
        for position in range(stopped, len(indices)):
            awards, index = owners[position], indices[position]
            key, at, on, outcome, _, draws, level, run, bonus_points, bonus_draws, recovered, original, value, _ = \
                awards[index]
            if not value:
                continue
            why = same.get(id(original))
            if why is None:
                why = same[id(original)] = (_cut_text, original, phrase)
            awards[index] = build_award(Award, (key, at, on, outcome, 0, draws, level, run, bonus_points,
                                                bonus_draws, recovered, why, 0, True))  # fmt: skip


def _walk(lists: list[list[Award]]) -> tuple[list[list[Award]], Sequence[int], list[Award]]:
    """The awards to walk in the order they happened (time, event key, then target order), with where each sits:
    its target's list (`owners`) and its index there (`indices`), in two sequences of the walk's length rather than a
    pair per award (no tuple per award to build and collect). Several targets' valued awards are merged; one
    target's awards are walked as they are."""
    if len(lists) == 1:
        # One target's awards are in that order already: they are the walk, the awards worth nothing with them
        # (cap_cuts passes over those), so no list of the valued ones is built.
        only = lists[0]
        return [only] * len(only), range(len(only)), only
    valued = [(t, i, a) for t, awards in enumerate(lists) for i, a in enumerate(awards) if a.value_cents]
    valued.sort(key=lambda item: (item[2].at, item[2].key, item[0]))
    return [lists[t] for t, _, _ in valued], [i for _, i, _ in valued], [a for _, _, a in valued]


def _cut_text(cut: Award, original: Why, limit: str) -> str:
    said = f"cut to {count(cut.points, 'point')}" if cut.points else "no points paid"
    before = original if isinstance(original, str) else original[0](cut, *original[1:])
    return f"{before}; {said}: {limit}"


def preview_program(
    rules: ProgramRules,
    events: Mapping[Hashable, Sequence[TargetEvent]],
    on: date,
    spends: Sequence[CapSpend] = (),
) -> dict[Hashable, NextPreview]:
    """What the next success of each target would earn on `on`, within what the limits leave (docs/rules.md 7)."""
    evaluation = evaluate_program(rules, events, spends)
    used = evaluation.cap_used_cents(on)
    return {
        target.key: fit_preview(
            preview_next(target.schedule, events.get(target.key, ()), on, target.label, target.versions),
            rules.cap_cents, rules.max_award_cents, used, rules.point_value_cents)
        for target in rules.targets
    }


def fit_preview(preview: NextPreview, cap_cents: int, max_award_cents: int | None, used_cents: int,
                point_value_cents: int) -> NextPreview:
    """A target's preview cut to what the cap (with `used_cents` of it used) and the per-award ceiling leave.

    Readers of the stored state (services.core.target_states) fit the stored preview here with the cap use they
    read, so the desk, the portal and the API say what preview_program says."""
    room = cap_cents - used_cents
    if max_award_cents is not None:
        room = min(room, max_award_cents)
    fit = max(room, 0) // point_value_cents
    if preview.points <= fit:
        return preview
    note = f"; the program's limits leave room for {count(fit, 'point')} only"
    return NextPreview(
        fit, preview.draws, preview.explanation + note,
        min(preview.reset_points, fit), preview.reset_draws, preview.reset_explanation,
    )  # fmt: skip


def preview_holds_until(target: TargetRules, on: date) -> date | None:
    """The last date on which a preview of `target` made on `on` still says the same for the same history (None:
    until the history changes), so a reader may keep it (services.core.target_states).

    Two things change it without an event: another schedule version taking effect (docs/rules.md 4.5), and, for a
    schedule that escalates per calendar week, a new week (4.1: a success next week climbs where one this week would
    not); the limits are left out, being fitted on reading (fit_preview)."""
    ends = [effective - timedelta(days=1) for effective, _ in target.timeline if effective > on]
    schedule = target.schedule_on(on)
    if not isinstance(schedule, FixedSchedule) and ladder_of(schedule).per_week:
        ends.append(on + timedelta(days=6 - on.weekday()))
    return min(ends, default=None)

