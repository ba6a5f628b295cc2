"""The test vectors of docs/rules.md 4.4, each event and the totals."""

from datetime import timedelta

from cm_tracker.engine import BowlTier, EscalatePer, EscalatingSchedule, PrizeDrawSchedule, evaluate_target
from engine.engine_helpers import MONDAY, VOUCHERS, daily, event, points, weekly

BOWL = (
    BowlTier("good_job", 250, 0),
    BowlTier("small", 209, 100),
    BowlTier("large", 40, 2000),
    BowlTier("jumbo", 1, 10000),
)


def test_vector_nnnpnnn_sample_mode_pays_170_points() -> None:
    awards = evaluate_target(VOUCHERS, daily("NNNPNNN"))

    assert points(awards) == [10, 15, 60, 0, 10, 15, 60]
    assert sum(points(awards)) == 170
    assert sum(points(awards)) * 25 == 4250  # $42.50


def test_vector_nine_negatives_positive_seven_negatives_with_recovery_pays_720_points() -> None:
    schedule = EscalatingSchedule(start=10, step=5, bonus_every=3, bonus=40, recovery_after=5)

    awards = evaluate_target(schedule, daily("N" * 9 + "P" + "N" * 7))

    assert sum(points(awards[:9])) == 390
    assert points(awards[9:]) == [0, 10, 15, 60, 25, 55, 100, 65]
    assert [a.bonus_points for a in awards[9:]] == [0, 0, 0, 40, 0, 0, 40, 0]
    assert awards[14].level == 9 and awards[14].recovered
    assert sum(points(awards)) == 720
    assert sum(points(awards)) * 25 == 18000  # $180.00


def test_vector_nine_negatives_positive_seven_negatives_without_recovery_pays_645_points() -> None:
    awards = evaluate_target(VOUCHERS, daily("N" * 9 + "P" + "N" * 7))

    assert points(awards[10:]) == [10, 15, 60, 25, 30, 75, 40]
    assert sum(points(awards)) == 645


def test_vector_36_consecutive_negatives_pay_3990_points() -> None:
    awards = evaluate_target(VOUCHERS, daily("N" * 36))

    assert sum(points(awards)) == 3990
    assert sum(points(awards)) * 25 == 99750  # $997.50


def test_vector_prize_draws_week_mode_with_bonus_set_pays_17_draws() -> None:
    schedule = PrizeDrawSchedule(
        start_draws=1, step_draws=1, max_draws=12, escalate_per=EscalatePer.WEEK,
        bonus_draws=2, bonus_analytes=frozenset({"opiates"}), bowl=BOWL,
    )  # fmt: skip
    # (primary, secondary) per visit, two visits a week; "-" is a missed visit.
    visits = [("N", "N"), ("N", "P"), ("N", "N"), ("N", "N"), ("P", "N"), ("N", "N"), ("N", "P"), ("M", "-")]
    events = [
        event(i, MONDAY + timedelta(weeks=i // 2, days=3 * (i % 2)), primary, bonus=secondary == "N")
        for i, (primary, secondary) in enumerate(visits)
    ]

    awards = evaluate_target(schedule, events)

    assert [a.draws for a in awards] == [3, 1, 4, 4, 0, 3, 2, 0]
    assert sum(a.draws for a in awards) == 17
    assert all(a.points == 0 for a in awards)


def test_vector_california_like_week_mode_pays_40_40_46_0_40() -> None:
    schedule = EscalatingSchedule(start=40, step=6, escalate_per=EscalatePer.WEEK)

    awards = evaluate_target(schedule, weekly(["NN", "NP", "N"]))

    assert points(awards) == [40, 40, 46, 0, 40]
    assert sum(points(awards)) == 166
