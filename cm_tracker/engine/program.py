"""Evaluating a patient's whole program: every target, then the program's limits (docs/rules.md sections 4, 5, 7).

Each target is evaluated under its own schedule (each event under the version in force on its date); then
all points awards are walked in the order they happened (time, event key, target order) and any that would
pass the per-award ceiling or the cap is cut to what fits, in whole points. Draws are not valued when
earned: the prize a draw wins is valued at the desk (cap_prize_tier) and comes back here as a CapSpend.
"""

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from cm_tracker.engine.caps import cap_ledger, cap_used_cents, limit_phrase
from cm_tracker.engine.evaluate import NextPreview, evaluate_ordered, evaluate_versions, preview_next
from cm_tracker.engine.events import Award, TargetEvent, in_order
from cm_tracker.engine.rules import ProgramRules, TargetRules
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
    flat = {(t, a.key): a for t, awards in by_target.items() for a in awards}
    return ProgramEvaluation(rules, flat, by_target, tuple(spends))


def _target_awards(target: TargetRules, ordered: Sequence[TargetEvent], point_value: int) -> list[Award]:
    if target.versions:
        return evaluate_versions(target.versions, ordered, target.label, point_value)
    return evaluate_ordered(target.schedule, ordered, target.label, point_value)


def _limits_may_bind(rules: ProgramRules, lists: list[list[Award]], spends: Sequence[CapSpend]) -> bool:
    """False when even all awards and spends together fit every window and no award passes the ceiling."""
    values = [a.value_cents for awards in lists for a in awards if a.value_cents]
    total = sum(values) + sum(s.value_cents for s in spends)
    ceiling = rules.max_award_cents
    return total > rules.cap_cents or (ceiling is not None and any(v > ceiling for v in values))


def _apply_limits(rules: ProgramRules, lists: list[list[Award]], spends: Sequence[CapSpend]) -> None:
    """Walk the points awards in the order they happened and cut, in place, those that do not fit."""
    ledger = cap_ledger(rules.cap_window, rules.cap_cents, [(s.on, s.value_cents) for s in spends])
    pv, ceiling = rules.point_value_cents, rules.max_award_cents
    over_ceiling = f"one award may be worth at most {money(ceiling or 0)}"
    over_cap = f"{limit_phrase(rules.cap_window, rules.cap_cents)} is reached"
    room_on, add = ledger.room, ledger.add
    for target_index, index, award in _walk(lists):
        fit, why = award.value_cents, ""
        if ceiling is not None and fit > ceiling:
            fit, why = ceiling, over_ceiling
        room = room_on(award.on)
        if fit > room:
            fit, why = max(room, 0), over_cap
        points = fit // pv
        if points != award.points:
            lists[target_index][index] = _cut(award, points, pv, why)
        add(award.on, points * pv)


def _walk(lists: list[list[Award]]) -> list[tuple[int, int, Award]]:
    """Valued awards of all targets in the order they happened: time, event key, then target order."""
    valued = [(t, i, a) for t, awards in enumerate(lists) for i, a in enumerate(awards) if a.value_cents]
    if len(lists) > 1:
        valued.sort(key=lambda item: (item[2].at, item[2].key, item[0]))
    return valued


def _cut(award: Award, points: int, point_value: int, why: str) -> Award:
    said = f"cut to {count(points, 'point')}" if points else "no points paid"
    return Award(
        award.key, award.at, award.on, award.outcome, points, award.draws, award.level, award.run,
        award.bonus_points, award.bonus_draws, award.recovered, f"{award.explanation}; {said}: {why}",
        points * point_value, True,
    )  # fmt: skip


def preview_program(
    rules: ProgramRules,
    events: Mapping[Hashable, Sequence[TargetEvent]],
    on: date,
    spends: Sequence[CapSpend] = (),
) -> dict[Hashable, NextPreview]:
    """What the next success of each target would earn on `on`, within what the limits leave (docs/rules.md 7)."""
    evaluation = evaluate_program(rules, events, spends)
    room = rules.cap_cents - evaluation.cap_used_cents(on)
    if rules.max_award_cents is not None:
        room = min(room, rules.max_award_cents)
    fit = max(room, 0) // rules.point_value_cents
    previews = {}
    for target in rules.targets:
        preview = preview_next(target.schedule, events.get(target.key, ()), on, target.label, target.versions)
        if preview.points > fit:
            note = f"; the program's limits leave room for {count(fit, 'point')} only"
            preview = NextPreview(
                fit, preview.draws, preview.explanation + note,
                min(preview.reset_points, fit), preview.reset_draws, preview.reset_explanation,
            )  # fmt: skip
        previews[target.key] = preview
    return previews
