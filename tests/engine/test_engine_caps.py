"""Program limits (docs/rules.md 5): awards cut to fit the cap and the per-award ceiling, whatever the order."""

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from cm_tracker.engine import (
    BowlTier,
    CapSpend,
    CapWindow,
    FixedSchedule,
    Outcome,
    PrizeDrawSchedule,
    ProgramRules,
    TargetEvent,
    TargetKind,
    TargetRules,
    cap_prize_tier,
    evaluate_program,
    preview_program,
)
from engine.engine_helpers import MONDAY, VOUCHERS, daily, event

BOWL = (
    BowlTier("good_job", 250, 0),
    BowlTier("small", 209, 100),
    BowlTier("large", 40, 2000),
    BowlTier("jumbo", 1, 10000),
)
GOOD_JOB, SMALL, LARGE, JUMBO = BOWL


def rules(schedule=VOUCHERS, cap=100_000, window=CapWindow.EPISODE, max_award=None, extra=()) -> ProgramRules:
    target = TargetRules("stimulants", TargetKind.ABSTINENCE, "stimulants", frozenset({"cocaine"}), schedule)
    return ProgramRules(25, cap, window, max_award, (target, *extra))


def on_days(*days: date, code: str = "N") -> list[TargetEvent]:
    return [event(i, day, code) for i, day in enumerate(days)]


def awarded(evaluation, target="stimulants") -> list[int]:
    return [a.points for a in evaluation.by_target[target]]


def test_it_cuts_an_award_to_what_fits_under_the_cap() -> None:
    evaluation = evaluate_program(rules(cap=1000), {"stimulants": daily("NNNN")})

    assert awarded(evaluation) == [10, 15, 15, 0]
    third, fourth = evaluation.by_target["stimulants"][2:]
    assert third.capped and third.value_cents == 375
    assert third.explanation.endswith(
        "= 60 points; cut to 15 points: the $10.00 limit for this treatment episode is reached"
    )
    assert fourth.explanation.endswith("; no points paid: the $10.00 limit for this treatment episode is reached")


def test_it_cuts_to_whole_points() -> None:
    evaluation = evaluate_program(rules(cap=1010), {"stimulants": daily("NNN")})

    assert awarded(evaluation) == [10, 15, 15]
    assert evaluation.cap_used_cents(MONDAY + timedelta(days=2)) == 1000


def test_it_leaves_awards_that_fit_untouched() -> None:
    evaluation = evaluate_program(rules(), {"stimulants": daily("NNNPN")})

    assert awarded(evaluation) == [10, 15, 60, 0, 10]
    assert not any(a.capped for a in evaluation.awards.values())


def test_it_cuts_an_award_above_the_per_award_ceiling() -> None:
    evaluation = evaluate_program(rules(max_award=1000), {"stimulants": daily("NNN")})

    assert awarded(evaluation) == [10, 15, 40]
    assert evaluation.award("stimulants", ("specimen", 2)).explanation.endswith(
        "; cut to 40 points: one award may be worth at most $10.00"
    )


def test_it_starts_a_new_calendar_year_cap_on_january_first() -> None:
    days = [date(2024, 12, 30), date(2024, 12, 31), date(2025, 1, 1), date(2025, 1, 2)]
    evaluation = evaluate_program(
        rules(FixedSchedule(points=40), cap=1000, window=CapWindow.CALENDAR_YEAR), {"stimulants": on_days(*days)}
    )

    assert awarded(evaluation) == [40, 0, 40, 0]
    assert "limit for this calendar year is reached" in evaluation.by_target["stimulants"][1].explanation


def test_it_keeps_a_rolling_cap_for_365_days() -> None:
    first = date(2025, 3, 10)
    days = [first, first + timedelta(days=364), first + timedelta(days=365)]
    evaluation = evaluate_program(
        rules(FixedSchedule(points=40), cap=1000, window=CapWindow.ROLLING_365), {"stimulants": on_days(*days)}
    )

    assert awarded(evaluation) == [40, 0, 40]


def test_it_never_resets_an_episode_cap() -> None:
    days = [date(2024, 12, 31), date(2025, 1, 1), date(2026, 6, 1)]
    evaluation = evaluate_program(rules(FixedSchedule(points=40), cap=1000), {"stimulants": on_days(*days)})

    assert awarded(evaluation) == [40, 0, 0]


def test_it_counts_prizes_handed_over_against_the_cap() -> None:
    spend = CapSpend(datetime(2025, 1, 6, 8, tzinfo=UTC), MONDAY, 800)
    evaluation = evaluate_program(rules(cap=1000), {"stimulants": daily("NN")}, [spend])

    assert awarded(evaluation) == [8, 0]
    assert evaluation.cap_remaining_cents(MONDAY + timedelta(days=1)) == 0


def test_it_reserves_later_prizes_so_a_correction_cannot_pass_the_cap() -> None:
    # A prize worth $8 was handed over on day 3; a correction then turns day 1 into a negative.
    spend = CapSpend(datetime(2025, 1, 8, 12, tzinfo=UTC), MONDAY + timedelta(days=2), 800)

    evaluation = evaluate_program(rules(cap=1000), {"stimulants": daily("NN")}, [spend])

    assert awarded(evaluation) == [8, 0]
    assert evaluation.cap_used_cents(MONDAY + timedelta(days=2)) == 1000


def test_it_reserves_later_prizes_inside_a_rolling_window_only() -> None:
    late = CapSpend(datetime(2026, 3, 1, tzinfo=UTC), date(2026, 3, 1), 1000)  # more than 365 days later
    evaluation = evaluate_program(
        rules(FixedSchedule(points=40), cap=1000, window=CapWindow.ROLLING_365), {"stimulants": daily("N")}, [late]
    )

    assert awarded(evaluation) == [40]


def test_it_gives_the_cap_to_events_in_the_order_they_happened_across_targets() -> None:
    attendance = TargetRules("group", TargetKind.ATTENDANCE, "group", frozenset(), FixedSchedule(points=40))
    program = rules(FixedSchedule(points=40), cap=1000, extra=(attendance,))
    specimen = event(1, MONDAY + timedelta(days=1), "N")
    session = event(0, MONDAY, "N")

    evaluation = evaluate_program(program, {"stimulants": [specimen], "group": [session]})

    assert (awarded(evaluation), awarded(evaluation, "group")) == ([0], [40])


def test_it_breaks_a_tie_between_targets_by_target_order() -> None:
    attendance = TargetRules("group", TargetKind.ATTENDANCE, "group", frozenset(), FixedSchedule(points=40))
    program = rules(FixedSchedule(points=40), cap=1000, extra=(attendance,))
    same = event(0, MONDAY, "N")

    evaluation = evaluate_program(program, {"group": [same], "stimulants": [same]})

    assert (awarded(evaluation), awarded(evaluation, "group")) == ([40], [0])


def test_it_gives_the_same_result_whatever_order_events_arrive_in() -> None:
    attendance = TargetRules("group", TargetKind.ATTENDANCE, "group", frozenset(), FixedSchedule(points=12))
    program = rules(cap=2500, extra=(attendance,))
    specimens, sessions = daily("NNNPNNNNNN"), daily("NNXNNPNN")
    expected = evaluate_program(program, {"stimulants": specimens, "group": sessions})

    for seed in range(5):
        rng = random.Random(seed)
        mixed_specimens, mixed_sessions = rng.sample(specimens, len(specimens)), rng.sample(sessions, len(sessions))
        again = evaluate_program(program, {"group": mixed_sessions, "stimulants": mixed_specimens})
        assert again.awards == expected.awards


def test_it_does_not_value_or_cut_draws_when_they_are_earned() -> None:
    prizes = PrizeDrawSchedule(start_draws=5, bowl=BOWL)
    evaluation = evaluate_program(rules(prizes, cap=0), {"stimulants": daily("NN")})

    assert [(a.draws, a.value_cents, a.capped) for a in evaluation.by_target["stimulants"]] == [(5, 0, False)] * 2


def test_it_refuses_events_for_a_target_the_program_does_not_have() -> None:
    with pytest.raises(ValueError, match="does not have"):
        evaluate_program(rules(), {"opioids": daily("N")})


def test_it_reports_cap_use_in_the_window_of_a_given_day() -> None:
    days = [date(2024, 12, 31), date(2025, 1, 2)]
    evaluation = evaluate_program(
        rules(FixedSchedule(points=4), window=CapWindow.CALENDAR_YEAR), {"stimulants": on_days(*days)}
    )

    assert evaluation.cap_used_cents(date(2024, 12, 31)) == 100
    assert evaluation.cap_used_cents(date(2025, 1, 1)) == 0
    assert evaluation.cap_used_cents(date(2025, 1, 2)) == 100
    assert evaluation.cap_remaining_cents(date(2025, 1, 2)) == 100_000 - 100


@pytest.mark.parametrize(
    ("drawn", "remaining", "max_award", "given"),
    [
        (LARGE, 5000, None, LARGE),
        (LARGE, 500, None, SMALL),
        (JUMBO, 5000, None, LARGE),
        (JUMBO, 50_000, 1500, SMALL),
        (SMALL, 50, None, GOOD_JOB),
        (GOOD_JOB, 0, None, GOOD_JOB),
    ],
    ids=["fits", "large becomes small", "jumbo becomes large", "ceiling binds", "nothing fits", "good job stays"],
)
def test_it_downgrades_a_prize_tier_that_does_not_fit(drawn, remaining, max_award, given) -> None:
    assert cap_prize_tier(BOWL, drawn, remaining, max_award) == given


def test_it_falls_back_to_good_job_when_the_bowl_has_no_empty_slips() -> None:
    tier = cap_prize_tier((SMALL, LARGE), LARGE, 0)

    assert (tier.tier, tier.value_cents) == ("good_job", 0)


def test_it_previews_only_what_the_cap_leaves() -> None:
    events = {"stimulants": daily("NN")}

    preview = preview_program(rules(cap=1000), events, MONDAY + timedelta(days=2))["stimulants"]

    assert preview.points == 15
    assert preview.explanation.endswith("the program's limits leave room for 15 points only")


def test_it_never_exceeds_the_cap_with_random_awards_and_spends() -> None:
    rng = random.Random(7)
    for _ in range(50):
        window = rng.choice(list(CapWindow))
        start = date(2024, 11, 1)
        events = [
            TargetEvent(i, datetime.combine(start + timedelta(days=3 * i), time(9), UTC), start + timedelta(days=3 * i),
                        rng.choice([Outcome.SUCCESS, Outcome.SUCCESS, Outcome.FAILURE]))
            for i in range(200)
        ]  # fmt: skip
        evaluation = evaluate_program(rules(cap=5000, window=window), {"stimulants": events})
        for day in {a.on for a in evaluation.awards.values()}:
            assert evaluation.cap_used_cents(day) <= 5000
