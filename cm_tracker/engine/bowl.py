"""The prize bowl draw (docs/rules.md section 4.2; Petry's fishbowl, CTN-0006 and CTN-0007).

A draw picks one slip uniformly at random, with replacement, so each tier comes up in proportion to its
slip count. It happens at the desk with the patient present; production passes an operating-system
random source (random.SystemRandom()), tests a seeded random.Random, so outcomes can be replayed.
"""

from collections.abc import Sequence
from typing import Protocol

from cm_tracker.engine.schedules import BowlTier


class RandomSource(Protocol):
    def randrange(self, stop: int, /) -> int: ...


def draw_slip(bowl: Sequence[BowlTier], rng: RandomSource) -> BowlTier:
    """One slip from the bowl: tier i comes up with probability slips_i / total slips."""
    total = sum(tier.slips for tier in bowl)
    if total <= 0:
        raise ValueError("the bowl has no slips")
    slip = rng.randrange(total)
    for tier in bowl:
        if slip < tier.slips:
            return tier
        slip -= tier.slips
    raise AssertionError("unreachable: slip numbers stop at the total")


def draw_slips(bowl: Sequence[BowlTier], rng: RandomSource, count: int) -> list[BowlTier]:
    """`count` independent draws, each with every slip back in the bowl."""
    return [draw_slip(bowl, rng) for _ in range(count)]


def expected_value_cents(bowl: Sequence[BowlTier], draws: int = 1) -> int:
    """Average nominal prize value of `draws` draws, rounded to the cent: a planning estimate, not money paid."""
    total = sum(tier.slips for tier in bowl)
    if not total:
        return 0
    weighted = sum(tier.slips * tier.value_cents for tier in bowl)
    return (draws * weighted + total // 2) // total
