"""Program limits: the cap over its window and the per-award ceiling (docs/rules.md section 5).

The value of a points award is points x point value; of a prize, the nominal value of the tier won.
An award that would pass a limit is cut to what fits, and its entry says why. The cap is never exceeded,
whatever order events arrive in.

Prizes already handed over ("spends") are facts that no correction takes back (docs/rules.md 6), so each
window reserves its spends first and points awards share what is left. A history evaluated again
unchanged therefore gets the same cuts, and a corrected one can never push a window over its cap.
"""

from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

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


class BlockLedger:
    """Cap use for windows that split time into separate blocks: calendar years, or one episode."""

    def __init__(self, window: CapWindow, cap_cents: int, spends: Iterable[tuple[date, int]]) -> None:
        self.by_year = window == CapWindow.CALENDAR_YEAR
        self.cap = cap_cents
        self.used: defaultdict[int, int] = defaultdict(int)
        for day, cents in spends:
            self.used[self._block(day)] += cents

    def _block(self, on: date) -> int:
        return on.year if self.by_year else 0

    def room(self, on: date) -> int:
        return self.cap - self.used[on.year if self.by_year else 0]

    def add(self, on: date, cents: int) -> None:
        self.used[on.year if self.by_year else 0] += cents


class RollingLedger:
    """Cap use over every span of 365 days.

    An award on day t must fit every window that contains it, i.e. those ending on t or later. Within the
    windows ending in (t, t + 364], only a spend can add use, so it is enough to check the window ending on t
    and those ending on each later spend.
    """

    def __init__(self, cap_cents: int, spends: Iterable[tuple[date, int]]) -> None:
        self.cap = cap_cents
        self.spends = _Sums(spends)
        self.awards = _Sums(())

    def room(self, on: date) -> int:
        t = on.toordinal()
        ends = [t, *self.spends.days_between(t + 1, t + ROLLING_DAYS - 1)]
        worst = max(self._use(end) for end in ends)
        return self.cap - worst

    def _use(self, end: int) -> int:
        first = end - ROLLING_DAYS + 1
        return self.awards.total(first, end) + self.spends.total(first, end)

    def add(self, on: date, cents: int) -> None:
        self.awards.add(on.toordinal(), cents)


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


def cap_ledger(window: CapWindow, cap_cents: int, spends: Iterable[tuple[date, int]]) -> BlockLedger | RollingLedger:
    if window == CapWindow.ROLLING_365:
        return RollingLedger(cap_cents, spends)
    return BlockLedger(window, cap_cents, spends)
