"""Properties that must hold for every history and schedule (docs/rules.md 3 to 6)."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cm_tracker.engine import (
    BowlTier,
    CapSpend,
    CapWindow,
    EscalatePer,
    EscalatingSchedule,
    FixedSchedule,
    Outcome,
    PrizeDrawSchedule,
    ProgramRules,
    TargetEvent,
    TargetKind,
    TargetRules,
    evaluate_program,
    evaluate_target,
    preview_next,
)

FIRST_DAY = date(2024, 12, 2)
BOWL = (BowlTier("good_job", 1, 0), BowlTier("small", 1, 100))
per = st.sampled_from(list(EscalatePer))


@st.composite
def escalating(draw: st.DrawFn) -> EscalatingSchedule:
    start = draw(st.integers(1, 50))
    every = draw(st.integers(0, 4))
    return EscalatingSchedule(
        start=start,
        step=draw(st.integers(0, 10)),
        max=draw(st.none() | st.integers(start, start + 60)),
        bonus_every=every,
        bonus=draw(st.integers(1, 40)) if every else 0,
        escalate_per=draw(per),
        recovery_after=draw(st.integers(0, 6)),
    )


@st.composite
def prize_draws(draw: st.DrawFn) -> PrizeDrawSchedule:
    start = draw(st.integers(1, 5))
    return PrizeDrawSchedule(
        start_draws=start, step_draws=draw(st.integers(0, 3)), max_draws=draw(st.none() | st.integers(start, 15)),
        escalate_per=draw(per), recovery_after=draw(st.integers(0, 6)), bowl=BOWL,
        bonus_draws=2, bonus_analytes=frozenset({"opiates"}),
    )  # fmt: skip


schedules = st.one_of(
    escalating(),
    prize_draws(),
    st.builds(FixedSchedule, points=st.integers(1, 50)),
    st.builds(FixedSchedule, draws=st.integers(1, 3)),
)
outcomes = st.sampled_from([Outcome.SUCCESS, Outcome.SUCCESS, Outcome.FAILURE, Outcome.NEUTRAL])


@st.composite
def histories(draw: st.DrawFn, max_size: int = 40) -> list[TargetEvent]:
    steps = draw(st.lists(st.tuples(st.integers(0, 4), outcomes, st.booleans()), max_size=max_size))
    events, day = [], FIRST_DAY
    for i, (gap, outcome, bonus) in enumerate(steps):
        day += timedelta(days=gap)
        at = datetime.combine(day, time(8), UTC) + timedelta(minutes=10 * i)
        events.append(TargetEvent(("e", 10 * i), at, day, outcome, bonus_success=bonus, reason=outcome.value))
    return events


@settings(max_examples=200, deadline=None)
@given(schedules, histories())
def test_failures_and_neutrals_earn_nothing(schedule, events) -> None:
    for award in evaluate_target(schedule, events):
        if award.outcome != Outcome.SUCCESS:
            assert (award.points, award.draws, award.value_cents) == (0, 0, 0)


@settings(max_examples=200, deadline=None)
@given(schedules, histories(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_input_order(schedule, events, rng) -> None:
    shuffled = events[:]
    rng.shuffle(shuffled)

    assert evaluate_target(schedule, shuffled) == evaluate_target(schedule, events)


@settings(max_examples=100, deadline=None)
@given(schedules, histories())
def test_evaluating_the_same_history_twice_gives_identical_awards(schedule, events) -> None:
    assert evaluate_target(schedule, events) == evaluate_target(schedule, list(events))


@settings(max_examples=200, deadline=None)
@given(schedules, histories(), st.lists(st.integers(0, 40), max_size=8))
def test_neutral_events_inserted_anywhere_change_nothing_else(schedule, events, positions) -> None:
    neutrals = []
    for n, position in enumerate(positions):
        # Just after event `position`: same day, a minute later, so the neutral falls between two events.
        anchor = events[min(position, len(events) - 1)] if events else None
        on = anchor.on if anchor else FIRST_DAY
        at = anchor.at + timedelta(minutes=1 + n % 5) if anchor else datetime.combine(on, time(8), UTC)
        neutrals.append(TargetEvent(("n", n), at, on, Outcome.NEUTRAL, reason="result pending"))

    before = {a.key: a for a in evaluate_target(schedule, events)}
    after = {a.key: a for a in evaluate_target(schedule, events + neutrals)}

    assert {key: after[key] for key in before} == before
    assert all(after[n.key].points == after[n.key].draws == 0 for n in neutrals)


@settings(max_examples=200, deadline=None)
@given(escalating(), histories())
def test_week_mode_pays_every_success_of_a_week_in_a_run_the_same(schedule, events) -> None:
    schedule = replace(schedule, escalate_per=EscalatePer.WEEK)
    paid: dict[tuple[int, tuple[int, int]], int] = {}
    stretch = 0  # a failure ends a run; a recovery lifts the level mid-run, so it starts a new stretch too
    for award in evaluate_target(schedule, events):
        if award.outcome == Outcome.FAILURE or award.recovered:
            stretch += 1
        if award.outcome == Outcome.SUCCESS:
            week = (stretch, award.on.isocalendar()[:2])
            base = award.points - award.bonus_points
            assert paid.setdefault(week, base) == base


@settings(max_examples=200, deadline=None)
@given(schedules, histories(), st.integers(0, 6))
def test_the_preview_matches_what_the_next_success_earns(schedule, events, gap) -> None:
    on = (events[-1].on if events else FIRST_DAY) + timedelta(days=gap)
    at = datetime.combine(on, time(23), UTC)
    preview = preview_next(schedule, events, on)

    nxt = evaluate_target(schedule, [*events, TargetEvent(("z", 0), at, on, Outcome.SUCCESS)])[-1]

    assert (preview.points, preview.draws) == (nxt.points, nxt.draws)


@settings(max_examples=200, deadline=None)
@given(schedules, histories(), st.integers(0, 6))
def test_the_preview_climbs_the_history_once_and_says_what_three_climbs_say(schedule, events, gap) -> None:
    """One version: the preview continues from the history's streak. A second, identical version that takes effect
    after every date here sends it down the path that climbs the whole history once per hypothetical event."""
    on = (events[-1].on if events else FIRST_DAY) + timedelta(days=gap)
    replayed = ((date.min, schedule), (date(9999, 1, 1), schedule))

    assert preview_next(schedule, events, on, "stimulants") == preview_next(schedule, events, on, "stimulants",
                                                                             replayed)


windows = st.sampled_from(list(CapWindow))


@settings(max_examples=150, deadline=None)
@given(
    escalating(),
    histories(60),
    histories(30),
    windows,
    st.integers(0, 3000),
    st.none() | st.integers(1, 800),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 300)), max_size=4),
)
def test_the_cap_is_never_exceeded(schedule, specimens, sessions, window, cap, max_award, spent) -> None:
    targets = (
        TargetRules("stimulants", TargetKind.ABSTINENCE, "stimulants", frozenset({"cocaine"}), schedule),
        TargetRules("group", TargetKind.ATTENDANCE, "group", frozenset(), FixedSchedule(points=7)),
    )
    rules = ProgramRules(25, cap, window, max_award, targets)
    spends = _spends_within(spent, cap)

    evaluation = evaluate_program(rules, {"stimulants": specimens, "group": sessions}, spends)

    days = {a.on for a in evaluation.awards.values()} | {s.on for s in spends}
    assert all(evaluation.cap_used_cents(day) <= cap for day in days)
    if max_award is not None:
        assert all(a.value_cents <= max_award for a in evaluation.awards.values())
    assert all(a.value_cents == a.points * 25 for a in evaluation.awards.values())


@settings(max_examples=100, deadline=None)
@given(escalating(), histories(), histories(), windows, st.integers(0, 3000), st.randoms(use_true_random=False))
def test_program_results_do_not_depend_on_input_order(schedule, specimens, sessions, window, cap, rng) -> None:
    targets = (
        TargetRules("stimulants", TargetKind.ABSTINENCE, "stimulants", frozenset({"cocaine"}), schedule),
        TargetRules("group", TargetKind.ATTENDANCE, "group", frozenset(), FixedSchedule(points=7)),
    )
    rules = ProgramRules(25, cap, window, None, targets)
    expected = evaluate_program(rules, {"stimulants": specimens, "group": sessions})

    again = evaluate_program(rules, {"group": rng.sample(sessions, len(sessions)),
                                     "stimulants": rng.sample(specimens, len(specimens))})  # fmt: skip

    assert again.awards == expected.awards


def _spends_within(spent: list[tuple[int, int]], cap: int) -> list[CapSpend]:
    """Prizes as the desk hands them over: never more than the cap in total."""
    spends, left = [], cap
    for day, cents in spent:
        cents = min(cents, left)
        left -= cents
        on = FIRST_DAY + timedelta(days=day)
        spends.append(CapSpend(datetime.combine(on, time(17), UTC), on, cents))
    return spends
