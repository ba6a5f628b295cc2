"""Small-cell suppression for counts that leave the programme (docs/rules.md 8, docs/reports.md "The funders'
export"): pure functions, no database.

Primary suppression shows every count from 1 to 10 as "<11". That alone is not enough when the counts of a table are
related: 16 enrolments of which 15 are new tell the reader that 1 was carried over from the year before, a count the
table never shows and would have suppressed. Complementary (secondary) suppression withholds enough of the related
counts that no such count can be worked out by subtraction. The withheld cells read "suppressed", not "<11", since
they may hold any number and "<11" would state a false one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

SMALL_CELL = 10
SUPPRESSED = "<11"
WITHHELD = "suppressed"


@dataclass(frozen=True)
class Parts:
    """Counts that count disjoint groups of the people a total counts (new enrolments among a year's enrolments;
    completed and discharged ones). What the parts leave of the total (enrolments carried over, still active) is a
    group of people too, whether or not a cell shows it."""

    total: str
    parts: tuple[str, ...]


def is_small(count: int) -> bool:
    return 1 <= count <= SMALL_CELL


def suppress(count: int) -> int | str:
    return SUPPRESSED if is_small(count) else count


def withheld(counts: Mapping[str, int], relations: Iterable[Parts]) -> set[str]:
    """The counts that must be withheld besides the small ones (complementary suppression).

    The rule: whenever a total is shown, a reader can subtract from it any set S of its parts that are shown, and so
    learn how many of the total's people fall outside those parts: total - sum(S). When that number is from 1 to 10
    (16 enrolments - 15 new ones = 1 carried over; 40 - 20 completed - 15 discharged = 5 still active; or a
    suppressed part added back), the smallest part of S that is not zero is withheld too: the next smallest related
    cell, the one whose loss tells the reader least (withholding a zero would not stop the subtraction). The check
    runs again until no such difference is left, so a cell withheld here is never the only unknown of its relation.
    A total from 1 to 10 is suppressed itself, and nothing can be subtracted from it; totals are never withheld to
    protect their parts. Each part belongs to one total, and the rows of a table are not added up anywhere (no row
    is the sum of others), so no relation runs across rows."""
    relations = list(relations)
    hidden = {name for name, count in counts.items() if is_small(count)}
    secondary: set[str] = set()
    while leak := _leak(counts, relations, hidden | secondary):
        secondary.add(min((p for p in leak if counts[p]), key=lambda p: (counts[p], p)))
    return secondary


def _leak(counts: Mapping[str, int], relations: list[Parts], hidden: set[str]) -> tuple[str, ...] | None:
    """The first set of shown parts whose subtraction from its shown total leaves 1 to 10 people, if any."""
    for relation in relations:
        if relation.total in hidden:
            continue
        shown = [p for p in relation.parts if p not in hidden]
        for size in range(1, len(shown) + 1):
            for subset in combinations(shown, size):
                if is_small(counts[relation.total] - sum(counts[p] for p in subset)):
                    return subset
    return None


def shown(counts: Mapping[str, int], relations: Iterable[Parts]) -> dict[str, int | str]:
    """Each count as a table that leaves the programme shows it: the count, "<11", or "suppressed"."""
    secondary = withheld(counts, relations)
    return {name: WITHHELD if name in secondary else suppress(count) for name, count in counts.items()}
