"""The fishbowl draw (docs/rules.md 4.2): one slip at random, with replacement, weighted by slip counts."""

import random
from collections import Counter

import pytest

from cm_tracker.engine import BowlTier, draw_slip, draw_slips, expected_value_cents

CTN_0007 = (
    BowlTier("good_job", 250, 0), BowlTier("small", 209, 100), BowlTier("large", 40, 2000), BowlTier("jumbo", 1, 10000),
)  # fmt: skip


def test_it_draws_each_tier_in_proportion_to_its_slips() -> None:
    counts = Counter(t.tier for t in draw_slips(CTN_0007, random.Random(2011), 10_000))

    assert counts["good_job"] == pytest.approx(5000, abs=200)
    assert counts["small"] == pytest.approx(4180, abs=200)
    assert counts["large"] == pytest.approx(800, abs=90)
    assert counts["jumbo"] <= 60


def test_it_replays_the_same_draws_from_the_same_seed() -> None:
    assert draw_slips(CTN_0007, random.Random(5), 20) == draw_slips(CTN_0007, random.Random(5), 20)


def test_it_never_draws_a_tier_without_slips() -> None:
    bowl = (BowlTier("good_job", 3, 0), BowlTier("jumbo", 0, 10000))

    assert {t.tier for t in draw_slips(bowl, random.Random(1), 500)} == {"good_job"}


class Scripted:
    """A random source that returns the slip numbers it is given."""

    def __init__(self, *numbers: int) -> None:
        self.numbers = list(numbers)

    def randrange(self, stop: int) -> int:
        assert stop == 500
        return self.numbers.pop(0)


@pytest.mark.parametrize(
    ("slip", "tier"),
    [
        (0, "good_job"),
        (249, "good_job"),
        (250, "small"),
        (458, "small"),
        (459, "large"),
        (498, "large"),
        (499, "jumbo"),
    ],
)
def test_it_maps_each_slip_number_to_its_tier(slip: int, tier: str) -> None:
    assert draw_slip(CTN_0007, Scripted(slip)).tier == tier


def test_it_refuses_to_draw_from_an_empty_bowl() -> None:
    with pytest.raises(ValueError, match="no slips"):
        draw_slip((BowlTier("good_job", 0, 0),), random.Random(1))


def test_it_estimates_the_expected_prize_value_in_whole_cents() -> None:
    assert expected_value_cents(CTN_0007) == 222  # (209 x 100 + 40 x 2000 + 10000) / 500 = 221.8
    assert expected_value_cents(CTN_0007, 10) == 2218
