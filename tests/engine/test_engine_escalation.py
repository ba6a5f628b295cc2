"""Escalation, reset, recovery and explanations (docs/rules.md 4.1 to 4.3 and 7)."""

import random
from datetime import timedelta

from cm_tracker.engine import (
    BowlTier,
    EscalatePer,
    EscalatingSchedule,
    FixedSchedule,
    Outcome,
    PrizeDrawSchedule,
    evaluate_target,
    preview_next,
)
from engine.engine_helpers import MONDAY, VOUCHERS, daily, event, points, weekly

RECOVERING = EscalatingSchedule(start=10, step=5, bonus_every=3, bonus=40, recovery_after=5)
WEEKLY = EscalatingSchedule(start=40, step=6, max=106, escalate_per=EscalatePer.WEEK)
ONE_SLIP = (BowlTier("good_job", 1, 0),)


def test_it_restores_the_earlier_value_after_five_negatives() -> None:
    awards = evaluate_target(RECOVERING, daily("NNNN P NNNNN"))

    assert [a.level for a in awards[5:]] == [0, 1, 2, 3, 4]  # level 4 was the level lost: no jump needed
    awards = evaluate_target(RECOVERING, daily("NNNNNNN P NNNNN"))
    assert [a.level for a in awards[8:]] == [0, 1, 2, 3, 7]
    assert awards[-1].recovered


def test_it_restores_only_on_the_fifth_success_of_the_run() -> None:
    awards = evaluate_target(RECOVERING, daily("NNNNNNN P NNN P NNNNNN"))

    recovered = [i for i, a in enumerate(awards) if a.recovered]
    assert recovered == [16]
    assert awards[16].level == 7 and awards[17].level == 8


def test_it_remembers_the_highest_level_lost_across_resets() -> None:
    awards = evaluate_target(RECOVERING, daily("NNNNNNNN P NN P NNNNN"))

    assert awards[-1].level == 8


def test_it_pays_every_success_of_one_week_the_same_in_week_mode() -> None:
    awards = evaluate_target(WEEKLY, weekly(["NN", "NN", "NN"]))

    assert points(awards) == [40, 40, 46, 46, 52, 52]


def test_it_counts_calendar_weeks_not_samples_in_week_mode() -> None:
    three_a_week = weekly(["NNN", "NNN"], days=(0, 2, 4))

    assert points(evaluate_target(WEEKLY, three_a_week)) == [40, 40, 40, 46, 46, 46]


def test_it_uses_iso_weeks_starting_on_monday() -> None:
    sunday, monday = MONDAY + timedelta(days=6), MONDAY + timedelta(days=7)
    events = [event(0, MONDAY, "N"), event(1, sunday, "N"), event(2, monday, "N")]

    assert points(evaluate_target(WEEKLY, events)) == [40, 40, 46]


def test_it_does_not_skip_levels_for_weeks_without_visits() -> None:
    events = weekly(["N", "", "", "N"])

    assert points(evaluate_target(WEEKLY, events)) == [40, 46]


def test_it_never_pays_more_than_the_maximum() -> None:
    awards = evaluate_target(WEEKLY, weekly(["N"] * 20))

    assert max(points(awards)) == 106
    assert points(awards)[-1] == 106
    assert "(the maximum)" in awards[-1].explanation


def test_it_pays_the_bonus_on_top_of_the_maximum() -> None:
    schedule = EscalatingSchedule(start=10, step=5, max=15, bonus_every=3, bonus=40)

    assert points(evaluate_target(schedule, daily("NNNNNN"))) == [10, 15, 55, 15, 15, 55]


def test_it_lets_neutral_events_neither_break_nor_extend_a_run() -> None:
    with_gaps = evaluate_target(VOUCHERS, daily("N X N X X N"))

    assert points(with_gaps) == [10, 0, 15, 0, 0, 60]
    assert [a.outcome for a in with_gaps][1] == Outcome.NEUTRAL


def test_it_evaluates_in_the_order_events_happened_not_the_order_they_were_entered() -> None:
    events = daily("NNNPNNN")
    shuffled = events[:]
    random.Random(4).shuffle(shuffled)

    assert evaluate_target(VOUCHERS, shuffled) == evaluate_target(VOUCHERS, events)


def test_it_breaks_ties_in_time_by_event_key() -> None:
    first, second = event(1, MONDAY, "N"), event(2, MONDAY, "P")
    second = type(second)(second.key, first.at, second.on, second.outcome, reason=second.reason)

    awards = evaluate_target(VOUCHERS, [second, first])

    assert [a.key for a in awards] == [("specimen", 1), ("specimen", 2)]


def test_it_explains_a_success_with_its_arithmetic() -> None:
    awards = evaluate_target(VOUCHERS, daily("NNNN"), label="stimulants")

    assert awards[0].explanation == "Negative for cocaine, 1st in a row for stimulants: 10 points"
    assert awards[3].explanation == "Negative for cocaine, 4th in a row for stimulants: 25 points (10 + 3 x 5)"


def test_it_explains_a_bonus() -> None:
    award = evaluate_target(VOUCHERS, daily("NNN"))[2]

    assert award.explanation.endswith("20 points (10 + 2 x 5) + 40 bonus points (every 3rd in a row) = 60 points")
    assert (award.points, award.bonus_points) == (60, 40)


def test_it_explains_a_recovery() -> None:
    award = evaluate_target(RECOVERING, daily("N" * 9 + "P" + "N" * 5))[-1]

    assert "55 points (10 + 9 x 5, the earlier value restored after 5 in a row)" in award.explanation


def test_it_explains_a_failure_and_what_comes_next() -> None:
    awards = evaluate_target(RECOVERING, daily("NNNNNNNNN P"), label="stimulants")

    assert awards[-1].explanation == (
        "Positive for cocaine: no points; the next success for stimulants earns 10 points; "
        "5 in a row bring back 55 points"
    )


def test_it_explains_a_neutral_event() -> None:
    award = evaluate_target(VOUCHERS, daily("NX"), label="stimulants")[1]

    assert award.explanation == "Excused absence: no points; the streak for stimulants is unchanged"


def test_it_escalates_prize_draws_like_points_and_adds_bonus_draws() -> None:
    schedule = PrizeDrawSchedule(start_draws=1, step_draws=1, max_draws=3, bowl=ONE_SLIP, bonus_draws=2,
                                 bonus_analytes=frozenset({"opiates"}))  # fmt: skip
    events = [event(i, MONDAY + timedelta(days=i), "N", bonus=i == 4) for i in range(5)]

    awards = evaluate_target(schedule, events)

    assert [a.draws for a in awards] == [1, 2, 3, 3, 5]
    assert awards[-1].explanation.endswith(
        "3 draws (the maximum) + 2 bonus draws (also negative for opiates) = 5 draws"
    )


def test_it_pays_a_fixed_amount_and_never_resets() -> None:
    awards = evaluate_target(FixedSchedule(points=20), daily("NPNXN"), label="group sessions")

    assert points(awards) == [20, 0, 20, 0, 20]
    assert awards[0].explanation == "Negative for cocaine for group sessions: 20 points"


def test_it_values_points_at_the_point_value_given() -> None:
    awards = evaluate_target(VOUCHERS, daily("NN"), point_value_cents=25)

    assert [a.value_cents for a in awards] == [250, 375]


def test_it_previews_what_the_next_success_earns() -> None:
    preview = preview_next(VOUCHERS, daily("NNN"), MONDAY + timedelta(days=3), label="stimulants")

    assert (preview.points, preview.reset_points) == (25, 10)
    assert preview.explanation == "The next success for stimulants earns 25 points (10 + 3 x 5)"
    assert preview.reset_explanation == "A failure would reset the next success to 10 points"


def test_it_previews_the_bonus_and_the_recovery_a_failure_would_set_up() -> None:
    preview = preview_next(RECOVERING, daily("NNNNN"), MONDAY + timedelta(days=5))

    assert preview.points == 75
    assert preview.reset_explanation.endswith("; 5 in a row bring back 35 points")


def test_it_previews_a_same_week_success_at_the_same_value_in_week_mode() -> None:
    history = weekly(["NN", "N"])

    same_week = preview_next(WEEKLY, history, MONDAY + timedelta(weeks=1, days=3))
    next_week = preview_next(WEEKLY, history, MONDAY + timedelta(weeks=2))

    assert (same_week.points, next_week.points) == (46, 52)


def test_it_previews_a_fixed_schedule() -> None:
    preview = preview_next(FixedSchedule(draws=1), [], MONDAY, label="counseling")

    assert (preview.draws, preview.reset_draws) == (1, 1)
    assert preview.explanation == "Each success for counseling earns 1 draw"


def test_it_reads_like_the_example_of_the_domain_rules() -> None:
    events = [e.__class__(e.key, e.at, e.on, e.outcome, reason="negative for stimulants") for e in daily("NNNN")]

    award = evaluate_target(VOUCHERS, events, label="stimulants")[3]

    assert award.explanation == "Negative for stimulants, 4th in a row: 25 points (10 + 3 x 5)"
