"""Evaluating one target's history under its schedule (docs/rules.md sections 3, 4 and 7).

Each event gets one award: a success earns, a failure earns nothing and resets the streak (except under
a fixed schedule), a neutral event earns nothing and changes nothing. Every award carries what its sentence needs
(an explainer of engine/explain.py and the event's reason); the sentence is made only when read.

When a live program's schedule changed (docs/rules.md 4.5), each event is paid by the version in force on its date
and the streak (run, level, saved level) carries across the change as one continuous history: a patient
four negatives into a run stays four negatives into it, now paid by the new numbers.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from cm_tracker.engine.events import Award, TargetAward, TargetEvent, build_award, chronological, in_order
from cm_tracker.engine.explain import FixedWording, Wording, amount_text, for_label, recovery_hint
from cm_tracker.engine.ladder import Ladder, ladder_of
from cm_tracker.engine.outcomes import Outcome
from cm_tracker.engine.schedules import EscalatePer, FixedSchedule, Schedule, ScheduleVersions, version_in_force
from cm_tracker.engine.text import count

__all__ = [
    "Award", "NextPreview", "TargetAward", "TargetEvent", "chronological", "evaluate_target", "evaluate_versions",
    "in_order", "preview_next",
]  # fmt: skip

SUCCESS = Outcome.SUCCESS
FAILURE = Outcome.FAILURE

# The streak between events: run, offset, saved level, weeks in the run, last week with a success.
Streak = tuple[int, int, int, int, int]
NEW_STREAK: Streak = (0, 0, 0, 0, -1)


@dataclass(frozen=True, slots=True)
class NextPreview:
    """What the next success would earn, and what a failure would reset it to (docs/rules.md 7)."""

    points: int
    draws: int
    explanation: str
    reset_points: int
    reset_draws: int
    reset_explanation: str


def evaluate_target(
    schedule: Schedule, events: Iterable[TargetEvent], label: str = "", point_value_cents: int = 0
) -> list[Award]:
    """One award per event, in the order the events happened, before program limits.

    `label` is the target's name as patients know it ("stimulants"), used in the explanations;
    `point_value_cents` values the points (evaluate_program applies the program's and its caps).
    """
    return evaluate_ordered(schedule, in_order(events), label, point_value_cents)


def evaluate_ordered(
    schedule: Schedule, ordered: Sequence[TargetEvent], label: str, point_value_cents: int
) -> list[Award]:
    """evaluate_target for events already in the order they happened."""
    if isinstance(schedule, FixedSchedule):
        return _fixed_awards(schedule, ordered, label, point_value_cents)
    return _climb(ladder_of(schedule), ordered, label, point_value_cents)[0]


def evaluate_versions(
    versions: ScheduleVersions, ordered: Sequence[TargetEvent], label: str, point_value_cents: int
) -> list[Award]:
    """evaluate_ordered for a schedule that changed over time: each event under the version in force on its
    date, the streak carried across each change (module docstring)."""
    return _evaluate(versions, ordered, label, point_value_cents)[0]


def _evaluate(
    versions: ScheduleVersions, ordered: Sequence[TargetEvent], label: str, point_value: int
) -> tuple[list[Award], int]:
    """The awards and the final saved level. A fixed version pays its amount and leaves the streak waiting as it
    was (4.3: it neither resets nor extends); a change of escalate_per counts the carried run's levels by the
    new rule (successes, or calendar weeks)."""
    if len(versions) == 1:
        schedule = versions[0][1]
        if isinstance(schedule, FixedSchedule):
            return _fixed_awards(schedule, ordered, label, point_value), 0
        awards, streak = _climb(ladder_of(schedule), ordered, label, point_value)
        return awards, streak[2]
    track_weeks = any(not isinstance(s, FixedSchedule) and s.escalate_per == EscalatePer.WEEK for _, s in versions)
    awards: list[Award] = []
    streak = NEW_STREAK
    for schedule, segment in _segments(versions, ordered):
        if isinstance(schedule, FixedSchedule):
            awards += _fixed_awards(schedule, segment, label, point_value)
        else:
            part, streak = _climb(ladder_of(schedule), segment, label, point_value, streak, track_weeks)
            awards += part
    return awards, streak[2]


def _segments(versions: ScheduleVersions, ordered: Sequence[TargetEvent]) -> list[tuple[Schedule, list[TargetEvent]]]:
    """The history cut into consecutive stretches paid by one version each."""
    dates = [effective_on for effective_on, _ in versions]
    segments: list[tuple[Schedule, list[TargetEvent]]] = []
    current = -1
    for event in ordered:
        index = version_in_force(dates, event.on)
        if index != current:
            segments.append((versions[index][1], []))
            current = index
        segments[-1][1].append(event)
    return segments


def _fixed_awards(
    schedule: FixedSchedule, ordered: Sequence[TargetEvent], label: str, point_value: int
) -> list[Award]:
    """Domain.md 4.3: the same amount on every success; failures and neutrals earn and reset nothing."""
    unit, amount = ("point", schedule.points) if schedule.points else ("draw", schedule.draws)
    words = FixedWording(unit, amount, label)
    points, draws, value = schedule.points, schedule.draws, schedule.points * point_value
    whys: dict[str, tuple[FixedWording, str]] = {}  # one per reason, as in _climb
    awards = []
    for event in ordered:
        reason, outcome = event.reason, event.outcome
        why = whys.get(reason) or whys.setdefault(reason, (words, reason))
        if outcome == SUCCESS:
            fields = (event.key, event.at, event.on, outcome, points, draws, 0, 0, 0, 0, False, why, value, False)
        else:
            fields = (event.key, event.at, event.on, outcome, 0, 0, 0, 0, 0, 0, False, why, 0, False)
        awards.append(build_award(Award, fields))
    return awards


def _climb(
    ladder: Ladder, ordered: Sequence[TargetEvent], label: str, point_value: int = 0,
    streak: Streak = NEW_STREAK, track_weeks: bool = False,
) -> tuple[list[Award], Streak]:
    """The state machine of docs/rules.md 4.1 (and 4.2 in draws); returns the awards and the streak after them.

    State: `run` successes in the current run, `offset` levels granted by recovery, `saved` the level a
    recovery restores, and in week mode `weeks`, the distinct calendar weeks among the run's successes.
    `streak` carries the state in from an earlier schedule version; `track_weeks` counts calendar weeks in
    sample mode too, for a later version in week mode. Local variables rather than an object, and awards built
    with build_award and worded only when read, because this loop is the engine's hot path.
    """
    start, step, maximum, per_week = ladder.start, ladder.step, ladder.max, ladder.per_week
    recovery, every, run_bonus = ladder.recovery_after, ladder.bonus_every, ladder.bonus
    analyte_bonus = ladder.bonus_draws
    in_draws = ladder.unit == "draw"
    weekly = per_week or track_weeks
    words = Wording(ladder, label)
    # One `why` per reason (per reason and saved level for a failure), shared by the awards that give it: an
    # object less per award to build and for the garbage collector to track.
    whys: dict[str, tuple[Wording, str]] = {}
    failure_whys: dict[tuple[str, int], tuple[Wording, str, int]] = {}
    run, offset, saved, weeks, last_week = streak
    awards: list[Award] = []
    append = awards.append
    for event in ordered:
        outcome = event.outcome
        if outcome == SUCCESS:
            # Monday-first week number: day 1 (0001-01-01) was a Monday, so these weeks are the ISO weeks.
            week = (event.on.toordinal() - 1) // 7 if weekly else 0
            level = offset + (weeks - (week == last_week) if per_week else run)
            recovered = False
            if recovery and run + 1 == recovery and saved > level:
                offset += saved - level
                level, saved, recovered = saved, 0, True
            base = start + step * level
            if maximum is not None and base > maximum:
                base = maximum
            run += 1
            if week != last_week:
                weeks, last_week = weeks + 1, week
            if in_draws:
                bonus = analyte_bonus if event.bonus_success else 0
            else:
                bonus = run_bonus if every and run % every == 0 else 0
            reason = event.reason
            why = whys.get(reason) or whys.setdefault(reason, (words, reason))
            total = base + bonus
            if in_draws:
                fields = (event.key, event.at, event.on, outcome, 0, total, level, run, 0, bonus, recovered, why, 0,
                          False)  # fmt: skip
            else:
                fields = (event.key, event.at, event.on, outcome, total, 0, level, run, bonus, 0, recovered, why,
                          total * point_value, False)  # fmt: skip
            append(build_award(Award, fields))
        elif outcome == FAILURE:
            if run:
                # The level a success would have had right after the run's last success, in its week.
                lost = offset + (weeks - 1 if per_week else run)
                if lost > saved:
                    saved = lost
            run = offset = weeks = 0
            last_week = -1
            reason = event.reason
            why = failure_whys.get((reason, saved)) or failure_whys.setdefault((reason, saved), (words, reason, saved))
            append(build_award(Award, (event.key, event.at, event.on, outcome, 0, 0, 0, 0, 0, 0, False, why, 0, False)))
        else:
            reason = event.reason
            why = whys.get(reason) or whys.setdefault(reason, (words, reason))
            append(build_award(Award, (event.key, event.at, event.on, outcome, 0, 0, 0, run, 0, 0, False, why, 0,
                                       False)))  # fmt: skip
    return awards, (run, offset, saved, weeks, last_week)


_FUTURE = datetime.max.replace(tzinfo=UTC)


def preview_next(
    schedule: Schedule, events: Iterable[TargetEvent], on: date, label: str = "", versions: ScheduleVersions = ()
) -> NextPreview:
    """What a success on `on` would earn after this history, and what a failure would reset it to (docs/rules.md 7).

    Computed by evaluating the history followed by a hypothetical success (or a failure, then a success),
    so the preview cannot disagree with the award the success will actually get. With `versions`, the
    history is paid as evaluate_versions pays it and the success by the version in force on `on`.
    """
    timeline = versions or ((date.min, schedule),)
    current = timeline[version_in_force([d for d, _ in timeline], on)][1]
    if isinstance(current, FixedSchedule):
        amount, unit = (current.points, "point") if current.points else (current.draws, "draw")
        said = f"Each success{for_label(label)} earns {count(amount, unit)}"
        reset = f"{said}; a failure resets nothing"
        return NextPreview(current.points, current.draws, said, current.points, current.draws, reset)
    ordered = in_order(events)
    success = TargetEvent(("preview", 1), _FUTURE, on, SUCCESS)
    failure = TargetEvent(("preview", 0), _FUTURE, on, FAILURE)
    ladder = ladder_of(current)
    if len(timeline) == 1:
        # One version: _climb is a left fold over the streak it returns, so the history is climbed once and each
        # hypothetical continues from its streak (the same awards as climbing the history three times over).
        streak = _climb(ladder, ordered, label)[1]
        nxt = _climb(ladder, (success,), label, 0, streak)[0][-1]
        failed = _climb(ladder, (failure,), label, 0, streak)[1]
        saved = failed[2]
        reset = _climb(ladder, (success,), label, 0, failed)[0][-1]
    else:
        nxt = _evaluate(timeline, [*ordered, success], label, 0)[0][-1]
        saved = _evaluate(timeline, [*ordered, failure], label, 0)[1]
        reset = _evaluate(timeline, [*ordered, failure, success], label, 0)[0][-1]
    reset_text = f"A failure would reset the next success to {count(ladder.start, ladder.unit)}"
    return NextPreview(
        nxt.points, nxt.draws, _preview_text(ladder, nxt, label),
        reset.points, reset.draws, reset_text + recovery_hint(ladder, saved),
    )  # fmt: skip


def _preview_text(ladder: Ladder, nxt: Award, label: str) -> str:
    bonus = nxt.bonus_points or nxt.bonus_draws
    base = (nxt.points or nxt.draws) - bonus
    text = f"The next success{for_label(label)} earns {amount_text(ladder, nxt.level, base, bonus, nxt.recovered)}"
    if ladder.bonus_draws:
        text += f", plus {count(ladder.bonus_draws, 'bonus draw')} if also negative for the bonus analytes"
    return text
