"""The progress page's charts as plain geometry: the template draws the SVG, no JavaScript.

Two charts share one layout: test results per week (negative, positive or missed, excused, stacked) and what was
earned per week. Geometry is computed here so that it can be tested with numbers, not pixels in a browser.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cm_tracker.services.queries.portal_history import Week

# A narrow drawing, so that its 13-unit text stays readable when a phone scales it down (and a desk caps its width).
WIDTH, HEIGHT = 360, 220
LEFT, RIGHT, TOP, BOTTOM = 70, 8, 12, 30  # room for the value axis on the left and week labels below
RESULT_SERIES = ("negative", "failed", "excused")


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    series: str
    value: int


@dataclass(frozen=True)
class Column:
    number: int  # the week's place in the chart, 1 first
    x_mid: float
    labelled: bool  # whether its week number fits below it (every week, or every 2nd or 4th when many)
    week: Week
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Gridline:
    y: float
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    columns: tuple[Column, ...]
    gridlines: tuple[Gridline, ...]
    peak: int

    @property
    def is_empty(self) -> bool:
        return self.peak == 0


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 1), for a readable axis."""
    if value <= 1:
        return 1
    power = 1
    while True:
        for factor in (1, 2, 5):
            if factor * power >= value:
                return factor * power
        power *= 10


def _chart(weeks: Sequence[Week], series: Sequence[tuple[str, Callable[[Week], int]]]) -> Chart:
    peak = max((sum(max(get(w), 0) for _, get in series) for w in weeks), default=0)
    top_value = nice_ceiling(peak)
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    slot = plot_w / max(len(weeks), 1)
    bar = max(min(slot * 0.62, 36.0), 2.0)
    columns = []
    every = 1 if len(weeks) <= 8 else 2 if len(weeks) <= 16 else 4
    for i, week in enumerate(weeks):
        x = LEFT + slot * i + (slot - bar) / 2
        base = float(HEIGHT - BOTTOM)
        segments = []
        for name, get in series:
            value = max(get(week), 0)
            if value:
                h = plot_h * value / top_value
                base -= h
                segments.append(Segment(round(x, 2), round(base, 2), round(bar, 2), round(h, 2), name, value))
        columns.append(Column(i + 1, round(x + bar / 2, 2), i % every == 0, week, tuple(segments)))
    grid = tuple(Gridline(round(HEIGHT - BOTTOM - plot_h * v / top_value, 2), v)
                 for v in sorted({0, top_value // 2 if top_value % 2 == 0 else top_value, top_value}))
    return Chart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM, tuple(columns), grid, peak)


def results_chart(weeks: Sequence[Week]) -> Chart:
    """Stacked bars: negative tests at the bottom, then positive or missed, then excused or not counted."""
    return _chart(weeks, [("negative", lambda w: w.negative), ("failed", lambda w: w.failed),
                          ("excused", lambda w: w.excused)])


def earnings_chart(weeks: Sequence[Week], in_draws: bool) -> Chart:
    """Bars of what each week earned: dollars for a points programme, prize draws for a fishbowl programme."""
    if in_draws:
        return _chart(weeks, [("draws", lambda w: w.draws)])
    return _chart(weeks, [("earned", lambda w: w.value_cents)])
