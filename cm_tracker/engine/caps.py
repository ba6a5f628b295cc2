"""Program limits: the cap over its window and the per-award ceiling (docs/rules.md section 5).

The value of a points award is points x point value; of a prize, the nominal value of the tier won.
An award that would pass a limit is cut to what fits, and its entry says why. The cap is never exceeded,
whatever order events arrive in.

Prizes already handed over ("spends") are facts that no correction takes back (docs/rules.md 6), so each
window reserves its spends first and points awards share what is left. A history evaluated again
unchanged therefore gets the same cuts, and a corrected one can never push a window over its cap.

The cap pass (`cap_cuts`) may stop early. Use in a window only grows as awards are walked, so once the room
left is below the least an award could keep (one point, or the ceiling if smaller), every later award in that
window keeps nothing and is cut by the cap; nothing it could do changes that. An episode is one window, so the
pass stops there and the caller zeroes the rest. A calendar year is one window per year: a year used up is
remembered and its later awards are zeroed without arithmetic, but the next year pays again. A rolling window
moves with each award, so no later award is skipped wholesale; an award is zeroed at once only when the window
ending on its own day is already used up, which bounds every window containing it (the later windows that
hold a spend are then not looked at).
"""

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Protocol

from cm_tracker.engine.rules import CapWindow
from cm_tracker.engine.schedules import BowlTier
from cm_tracker.engine.text import money

ROLLING_DAYS = 365
GOOD_JOB = BowlTier("good_job", 0, 0)

_WINDOW_WORDS = {
    CapWindow.CALENDAR_YEAR: "for this calendar year",
    CapWindow.ROLLING_365: "for any 365 days",
    CapWindow.EPISODE: "for this treatment episode",
}


def limit_phrase(window: CapWindow, cap_cents: int) -> str:
    """'the $599.00 limit for this calendar year'."""
    return f"the {money(cap_cents)} limit {_WINDOW_WORDS[CapWindow(window)]}"


def window_start(window: CapWindow, on: date) -> date:
    """First day of the window that ends on `on`; date.min for an episode, which covers the whole enrollment."""
    if window == CapWindow.CALENDAR_YEAR:
        return date(on.year, 1, 1)
    if window == CapWindow.ROLLING_365:
        return on - timedelta(days=ROLLING_DAYS - 1)
    return date.min


def cap_used_cents(window: CapWindow, entries: Iterable[tuple[date, int]], on: date) -> int:
    """Cents counted against the cap in the window that ends on `on`: entries dated from its start to `on`.

    `entries` are (date, value in cents) pairs: valued awards and prizes handed over.
    """
    first = window_start(window, on)
    return sum(cents for day, cents in entries if first <= day <= on)


def cap_prize_tier(
    bowl: Sequence[BowlTier], tier: BowlTier, remaining_cents: int, max_award_cents: int | None = None
) -> BowlTier:
    """The tier a patient may take: the one drawn if its value fits the cap left and the per-award ceiling,
    else the most valuable tier that fits, else good job (docs/rules.md 5)."""
    limit = remaining_cents if max_award_cents is None else min(remaining_cents, max_award_cents)
    if tier.value_cents <= limit:
        return tier
    fitting = [t for t in bowl if t.value_cents <= limit]
    return max(fitting, key=lambda t: t.value_cents) if fitting else GOOD_JOB


class Valued(Protocol):
    """What the cap pass reads of an award: its clinic-local date and its value in cents (a multiple of the unit)."""

    @property
    def on(self) -> date: ...

    @property
    def value_cents(self) -> int: ...


CEILING = "ceiling"  # the per-award ceiling cut this award
CAP = "cap"  # the cap over the window cut it
# A cut: (position in the walk, cents kept, CEILING or CAP).
Cut = tuple[int, int, str]


def cap_cuts(
    window: CapWindow, cap_cents: int, ceiling: int | None, unit: int,
    walk: Sequence[Valued], spends: Iterable[tuple[date, int]],
) -> tuple[list[Cut], int]:
    """The awards of `walk` (awards in the order they happened) that the limits cut, and where the pass stopped:
    every valued award from that position on keeps nothing, cut by the cap (module docstring). Awards worth
    nothing are passed over, so one target's awards can be walked as they are, with no list of the valued ones.

    Each award keeps the most of its value, in whole multiples of `unit` (the point value), that fits under
    `ceiling` and in every window containing it, after the spends and the awards before it.
    """
    least = unit if ceiling is None else min(unit, ceiling)  # the least a valued award could keep
    if window == CapWindow.ROLLING_365:
        return _rolling_cuts(cap_cents, ceiling, unit, least, walk, spends), len(walk)
    return _block_cuts(window == CapWindow.CALENDAR_YEAR, cap_cents, ceiling, unit, least, walk, spends)


def _block_cuts(
    by_year: bool, cap: int, ceiling: int | None, unit: int, least: int,
    walk: Sequence[Valued], spends: Iterable[tuple[date, int]],
) -> tuple[list[Cut], int]:
    """Windows that split time into separate blocks: calendar years, or one episode (block 0)."""
    used: dict[int, int] = {}
    for day, cents in spends:
        block = day.year if by_year else 0
        used[block] = used.get(block, 0) + cents
    full: set[int] = set()  # years whose room is below `least`: their later awards keep nothing
    cuts: list[Cut] = []
    cut = cuts.append
    for position, award in enumerate(walk):
        wanted = fit = award.value_cents
        if not wanted:
            continue
        block = award.on.year if by_year else 0
        if block in full:
            cut((position, 0, CAP))
            continue
        limit = CEILING
        if ceiling is not None and fit > ceiling:
            fit = ceiling
        room = cap - used.get(block, 0)
        if fit > room:
            fit, limit = (room if room > 0 else 0), CAP
        kept = fit - fit % unit
        if kept != wanted:
            cut((position, kept, limit))
        used[block] = cap - room + kept
        if room - kept < least:
            if not by_year:
                return cuts, position + 1
            full.add(block)
    return cuts, len(walk)


def _rolling_cuts(
    cap: int, ceiling: int | None, unit: int, least: int, walk: Sequence[Valued], spends: Iterable[tuple[date, int]]
) -> list[Cut]:
    """Cap use over every span of 365 days.

    An award on day t must fit every window that contains it, i.e. those ending on t or later. Within the
    windows ending in (t, t + 364], only a spend can add use, so it is enough to check the window ending on t
    and those ending on each later spend.
    """
    spent = _Sums(spends)
    if not spent.days:
        in_order = _rolling_cuts_in_order(cap, ceiling, unit, least, walk)
        if in_order is not None:
            return in_order
    awarded = _Sums(())
    spend_total, spend_days, award_total, add = spent.total, spent.days_between, awarded.total, awarded.add
    any_spends = bool(spent.days)
    span = ROLLING_DAYS - 1
    cuts: list[Cut] = []
    cut = cuts.append
    for position, award in enumerate(walk):
        wanted = fit = award.value_cents
        if not wanted:
            continue
        t = award.on.toordinal()
        used = award_total(t - span, t)
        if any_spends:
            used += spend_total(t - span, t)
        room = cap - used
        if room < least:  # the window ending on t alone leaves too little: no later window can leave more
            cut((position, 0, CAP))
            continue
        if any_spends:
            for end in spend_days(t + 1, t + span):
                first = end - span
                room = min(room, cap - award_total(first, end) - spend_total(first, end))
        limit = CEILING
        if ceiling is not None and fit > ceiling:
            fit = ceiling
        if fit > room:
            fit, limit = (room if room > 0 else 0), CAP
        kept = fit - fit % unit
        if kept != wanted:
            cut((position, kept, limit))
        if kept:
            add(t, kept)
    return cuts


def _rolling_cuts_in_order(
    cap: int, ceiling: int | None, unit: int, least: int, walk: Sequence[Valued]
) -> list[Cut] | None:
    """_rolling_cuts without spends, for awards dated in order (the usual case; None when one is dated before the
    award before it, and the general walk decides).

    With nothing but awards, an award need fit only the window ending on its own day (no later window holds more
    of what came before it), and that window's use is a running sum: the kept awards of the last 365 days, the
    oldest dropped as the days move on, instead of two searches and a sum per award.
    """
    span = ROLLING_DAYS - 1
    days: list[int] = []
    cents: list[int] = []
    oldest = used = 0  # days[oldest:] are the kept awards in the window; `used` their sum
    last = 0
    cuts: list[Cut] = []
    cut = cuts.append
    for position, award in enumerate(walk):
        wanted = fit = award.value_cents
        if not wanted:
            continue
        t = award.on.toordinal()
        if t < last:
            return None
        last = t
        while oldest < len(days) and days[oldest] < t - span:
            used -= cents[oldest]
            oldest += 1
        room = cap - used
        if room < least:
            cut((position, 0, CAP))
            continue
        limit = CEILING
        if ceiling is not None and fit > ceiling:
            fit = ceiling
        if fit > room:
            fit, limit = (room if room > 0 else 0), CAP
        kept = fit - fit % unit
        if kept != wanted:
            cut((position, kept, limit))
        if kept:
            days.append(t)
            cents.append(kept)
            used += kept
    return cuts


class _Sums:
    """Values by day ordinal, with sums over day ranges."""

    def __init__(self, entries: Iterable[tuple[date, int]]) -> None:
        pairs = sorted((day.toordinal(), cents) for day, cents in entries)
        self.days = [day for day, _ in pairs]
        self.cents = [cents for _, cents in pairs]
        self.prefix = self._prefix()

    def _prefix(self) -> list[int]:
        prefix = [0]
        for cents in self.cents:
            prefix.append(prefix[-1] + cents)
        return prefix

    def add(self, day: int, cents: int) -> None:
        if not self.days or day >= self.days[-1]:
            self.days.append(day)
            self.cents.append(cents)
            self.prefix.append(self.prefix[-1] + cents)
            return
        index = bisect_right(self.days, day)  # out of order: rare, rebuild the sums
        insort(self.days, day)
        self.cents.insert(index, cents)
        self.prefix = self._prefix()

    def total(self, first: int, last: int) -> int:
        return self.prefix[bisect_right(self.days, last)] - self.prefix[bisect_left(self.days, first)]

    def days_between(self, first: int, last: int) -> list[int]:
        return self.days[bisect_left(self.days, first) : bisect_right(self.days, last)]
