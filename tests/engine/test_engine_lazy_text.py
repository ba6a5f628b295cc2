"""Award sentences are made when read, with the very text the engine used to build at once (docs/rules.md 7).

The expected sentences below were produced by the engine before the text became lazy, so any drift in wording,
for a plain, a reset, a recovered, a capped, a ceiling-cut, a prize-draw or a fixed award, fails here.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cm_tracker.engine import (
    Award,
    BowlTier,
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
    explain,
)
from cm_tracker.engine.caps import limit_phrase
from cm_tracker.engine.ladder import ladder_of
from cm_tracker.engine.text import count, money, ordinal
from engine.engine_helpers import VOUCHERS, daily, event

RECOVERY = EscalatingSchedule(start=10, step=5, recovery_after=3, bonus_every=3, bonus=40)
BOWL = (BowlTier("good_job", 250, 0), BowlTier("small", 209, 100))
DRAWS = PrizeDrawSchedule(start_draws=1, step_draws=1, max_draws=3, bowl=BOWL, bonus_draws=2,
                          bonus_analytes=frozenset({"opioids"}), recovery_after=2)  # fmt: skip


def rules(schedule=VOUCHERS, cap=100_000, window=CapWindow.EPISODE, max_award=None, label="stimulants"):
    target = TargetRules("stimulants", TargetKind.ABSTINENCE, label, frozenset({"cocaine"}), schedule)
    return ProgramRules(25, cap, window, max_award, (target,))


def sentences(evaluation) -> list[tuple[str, int, int, bool]]:
    return [(a.explanation, a.points, a.draws, a.capped) for a in evaluation.by_target["stimulants"]]


def test_escalation_reset_recovery_and_a_neutral_read_as_before() -> None:
    evaluation = evaluate_program(rules(RECOVERY), {"stimulants": daily("NNNNPNNNX")})

    assert sentences(evaluation) == [
        ("Negative for cocaine, 1st in a row for stimulants: 10 points", 10, 0, False),
        ("Negative for cocaine, 2nd in a row for stimulants: 15 points (10 + 1 x 5)", 15, 0, False),
        ("Negative for cocaine, 3rd in a row for stimulants: 20 points (10 + 2 x 5) + 40 bonus points "
         "(every 3rd in a row) = 60 points", 60, 0, False),
        ("Negative for cocaine, 4th in a row for stimulants: 25 points (10 + 3 x 5)", 25, 0, False),
        ("Positive for cocaine: no points; the next success for stimulants earns 10 points; "
         "3 in a row bring back 30 points", 0, 0, False),
        ("Negative for cocaine, 1st in a row for stimulants: 10 points", 10, 0, False),
        ("Negative for cocaine, 2nd in a row for stimulants: 15 points (10 + 1 x 5)", 15, 0, False),
        ("Negative for cocaine, 3rd in a row for stimulants: 30 points (10 + 4 x 5, the earlier value restored "
         "after 3 in a row) + 40 bonus points (every 3rd in a row) = 70 points", 70, 0, False),
        ("Excused absence: no points; the streak for stimulants is unchanged", 0, 0, False),
    ]  # fmt: skip


def test_capped_awards_say_what_was_earned_then_what_was_cut() -> None:
    evaluation = evaluate_program(rules(cap=1000), {"stimulants": daily("NNNN")})

    assert sentences(evaluation)[2:] == [
        ("Negative for cocaine, 3rd in a row for stimulants: 20 points (10 + 2 x 5) + 40 bonus points "
         "(every 3rd in a row) = 60 points; cut to 15 points: the $10.00 limit for this treatment episode is reached",
         15, 0, True),
        ("Negative for cocaine, 4th in a row for stimulants: 25 points (10 + 3 x 5); no points paid: the $10.00 limit "
         "for this treatment episode is reached", 0, 0, True),
    ]  # fmt: skip


def test_a_recovered_award_cut_by_a_rolling_cap_reads_as_before() -> None:
    rolling = rules(RECOVERY, cap=4500, window=CapWindow.ROLLING_365)
    evaluation = evaluate_program(rolling, {"stimulants": daily("NNNNPNNNN")})

    assert [a.explanation for a in evaluation.by_target["stimulants"][7:]] == [
        "Negative for cocaine, 3rd in a row for stimulants: 30 points (10 + 4 x 5, the earlier value restored after "
        "3 in a row) + 40 bonus points (every 3rd in a row) = 70 points; cut to 45 points: the $45.00 limit for any "
        "365 days is reached",
        "Negative for cocaine, 4th in a row for stimulants: 35 points (10 + 5 x 5); no points paid: the $45.00 limit "
        "for any 365 days is reached",
    ]


def test_an_award_at_the_maximum_cut_by_the_cap_still_says_the_maximum() -> None:
    evaluation = evaluate_program(rules(EscalatingSchedule(start=10, step=20, max=30), cap=1300), {
        "stimulants": daily("NNNN")})  # fmt: skip

    assert [a.explanation for a in evaluation.by_target["stimulants"][2:]] == [
        "Negative for cocaine, 3rd in a row for stimulants: 30 points (the maximum); cut to 12 points: the $13.00 "
        "limit for this treatment episode is reached",
        "Negative for cocaine, 4th in a row for stimulants: 30 points (the maximum); no points paid: the $13.00 limit "
        "for this treatment episode is reached",
    ]


def test_the_per_award_ceiling_reads_as_before() -> None:
    evaluation = evaluate_program(rules(max_award=500), {"stimulants": daily("NNN")})

    assert sentences(evaluation)[2] == (
        "Negative for cocaine, 3rd in a row for stimulants: 20 points (10 + 2 x 5) + 40 bonus points (every 3rd in a "
        "row) = 60 points; cut to 20 points: one award may be worth at most $5.00", 20, 0, True,
    )  # fmt: skip


def test_prize_draws_with_bonus_draws_reset_and_recovery_read_as_before() -> None:
    events = daily("NNNPNN")
    events[1] = event(1, events[1].on, "N", bonus=True)

    assert sentences(evaluate_program(rules(DRAWS), {"stimulants": events})) == [
        ("Negative for cocaine, 1st in a row for stimulants: 1 draw", 0, 1, False),
        ("Negative for cocaine, 2nd in a row for stimulants: 2 draws (1 + 1 x 1) + 2 bonus draws (also negative for "
         "opioids) = 4 draws", 0, 4, False),
        ("Negative for cocaine, 3rd in a row for stimulants: 3 draws (1 + 2 x 1)", 0, 3, False),
        ("Positive for cocaine: no draws; the next success for stimulants earns 1 draw; 2 in a row bring back "
         "3 draws", 0, 0, False),
        ("Negative for cocaine, 1st in a row for stimulants: 1 draw", 0, 1, False),
        ("Negative for cocaine, 2nd in a row for stimulants: 3 draws (1 + 3 x 1, the earlier value restored after "
         "2 in a row)", 0, 3, False),
    ]  # fmt: skip


def test_a_fixed_schedule_reads_as_before() -> None:
    evaluation = evaluate_program(rules(FixedSchedule(points=20), label="group sessions"), {"stimulants": daily("NPX")})

    assert [a.explanation for a in evaluation.by_target["stimulants"]] == [
        "Negative for cocaine for group sessions: 20 points",
        "Positive for cocaine: no points; the next success for group sessions earns 20 points",
        "Excused absence: no points; the next success for group sessions earns 20 points",
    ]


WORDING = ("opening", "amount_text", "failure_text", "neutral_text", "fixed_text")


@pytest.fixture
def worded(monkeypatch) -> list[str]:
    """The names of explain's sentence builders, one entry per call."""
    calls: list[str] = []
    for name in WORDING:
        real = getattr(explain, name)
        monkeypatch.setattr(explain, name, lambda *args, _real=real, _name=name: calls.append(_name) or _real(*args))
    return calls


@pytest.mark.parametrize("schedule", [RECOVERY, DRAWS, FixedSchedule(points=20)], ids=["points", "draws", "fixed"])
def test_evaluating_builds_no_sentence_until_one_is_read(worded, schedule) -> None:
    evaluation = evaluate_program(rules(schedule, cap=1000), {"stimulants": daily("NNNNPNNNX" * 5)})
    assert worded == []

    last = evaluation.by_target["stimulants"][-1]
    assert last.explanation.startswith("Excused absence: no ")
    assert worded  # read once, worded once
    assert all(not isinstance(a.why, str) for a in evaluation.by_target["stimulants"])


def test_awards_compare_on_their_facts_across_evaluations() -> None:
    history = {"stimulants": daily("NNNPNNX")}
    first = evaluate_program(rules(cap=1500), history).by_target["stimulants"]
    again = evaluate_program(rules(cap=1500), history).by_target["stimulants"]

    assert first == again and hash(first) == hash(again)
    missed = evaluate_program(rules(cap=1500), {"stimulants": daily("NNNMNNX")}).by_target["stimulants"]
    assert missed[3] != first[3]  # same numbers, another reason: another sentence, another award
    assert (missed[3].points, missed[3].run) == (first[3].points, first[3].run)


def test_an_award_may_carry_its_sentence_ready_made() -> None:
    award = Award(("specimen", 1), None, date(2025, 1, 6), Outcome.NEUTRAL, 0, 0, 0, 0, 0, 0, False, "As written")

    assert award.explanation == "As written"


# Reasons as the classifications give them, one that names the target's label (said once, not twice), and none.
REASONS = {
    Outcome.SUCCESS: ["negative for cocaine", "negative for stimulants", ""],
    Outcome.FAILURE: ["positive for cocaine", "missed visit", ""],
    Outcome.NEUTRAL: ["excused absence", "result pending", ""],
}


@st.composite
def worded_histories(draw: st.DrawFn) -> list[TargetEvent]:
    steps = draw(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(list(Outcome)), st.integers(0, 2),
                                    st.booleans()), max_size=50))  # fmt: skip
    events, day = [], date(2025, 11, 3)
    for n, (gap, outcome, reason, bonus) in enumerate(steps):
        day += timedelta(days=gap)
        at = datetime.combine(day, time(9), UTC) + timedelta(minutes=n)
        events.append(TargetEvent(("specimen", n), at, day, outcome, bonus_success=bonus,
                                  reason=REASONS[outcome][reason]))  # fmt: skip
    return events


def eager(award: Award, schedule, label: str, reason: str) -> str:
    """The sentence built at once from the award's facts by explain's text builders, nothing remembered: what the
    engine said before its sentences became lazy. A failure's saved level is a fact of the streak, not of the award,
    so it is read from the award's `why`."""
    if isinstance(schedule, FixedSchedule):
        unit, amount = ("point", schedule.points) if schedule.points else ("draw", schedule.draws)
        return explain.fixed_text(unit, amount, label, reason, award.outcome)
    ladder = ladder_of(schedule)
    if award.outcome == Outcome.FAILURE:
        return explain.failure_text(ladder, label, reason, award.why[2])
    if award.outcome == Outcome.NEUTRAL:
        return explain.neutral_text(ladder.unit, label, reason)
    bonus = award.bonus_draws if ladder.unit == "draw" else award.bonus_points
    amount = explain.amount_text(ladder, award.level, ladder.value(award.level), bonus, award.recovered)
    named = "" if label and label in reason else explain.for_label(label)
    return f"{explain.opening(reason, Outcome.SUCCESS)}, {ordinal(award.run)} in a row{named}: {amount}"


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([RECOVERY, VOUCHERS, DRAWS, FixedSchedule(points=20), FixedSchedule(draws=2),
                     EscalatingSchedule(start=5, step=10, max=40, escalate_per=EscalatePer.WEEK, recovery_after=2)]),
    worded_histories(),
    st.sampled_from(["stimulants", ""]),
    st.sampled_from(list(CapWindow)),
    st.integers(0, 4000),
    st.none() | st.integers(1, 1500),
    st.randoms(use_true_random=False),
)  # fmt: skip
def test_every_sentence_read_lazily_is_the_one_built_eagerly(schedule, events, label, window, cap, max_award,
                                                              rng) -> None:
    limited = rules(schedule, cap, window, max_award, label)
    awards = list(evaluate_program(limited, {"stimulants": events}).by_target["stimulants"])
    reasons = {e.key: e.reason for e in events}
    limits = (f"one award may be worth at most {money(max_award or 0)}", f"{limit_phrase(window, cap)} is reached")

    # Read in any order, some twice: what one sentence remembers must never leak into another's.
    read = {}
    for award in rng.sample(awards * 2, 2 * len(awards)):
        read.setdefault(award.key, set()).add(award.explanation)

    for award in awards:
        sentence = eager(award, schedule, label, reasons[award.key])
        assert read[award.key] == {award.explanation}
        if not award.capped:
            assert award.explanation == sentence
            continue
        said = f"cut to {count(award.points, 'point')}" if award.points else "no points paid"
        assert award.explanation in {f"{sentence}; {said}: {limit}" for limit in limits}
