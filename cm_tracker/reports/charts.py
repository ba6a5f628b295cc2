"""Server-rendered SVG line charts: the geometry is computed here, templates/reports/_chart.html draws it.

No JavaScript: each chart is an <svg role="img"> with a title and a description, and every chart on a page sits
beside a table with the same numbers, which is what screen readers and keyboard users read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cm_tracker.money import format_axis_cents
from cm_tracker.services.queries.reports.budget import MonthSpend
from cm_tracker.services.queries.reports.outcomes import RetentionPoint, WeekPoint

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40
MAX_X_LABELS = 5


@dataclass(frozen=True)
class Series:
    label: str
    css: str
    segments: list[str]  # SVG polyline "x,y x,y" runs, split where a value is missing
    dots: list[tuple[float, float, str]]
    dashed: bool = False


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    series: list[Series]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str, str]]  # x, label, text-anchor: the end labels align inward, inside the viewBox
    width: int = WIDTH
    height: int = HEIGHT
    plot: tuple[int, int, int, int] = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)
    empty: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Line:
    label: str
    css: str
    values: Sequence[float | None]
    dashed: bool = False


def _nice_max(value: float) -> float:
    """A round top for the y axis at or above `value`."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 2.5, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def _money_step(cents: float) -> int:
    """A quarter of a money axis: whole dollars of 1, 2 or 5 times a power of ten (25 from $10 up), at or above
    `cents`, so that every tick is a round amount written exactly (a tick of $2.50 would be written "$3")."""
    step = 100
    while True:
        for factor in (1, 2, 2.5, 5) if step >= 1000 else (1, 2, 5):
            if step * factor >= cents:
                return int(step * factor)
        step *= 10


def money_axis(values: Sequence[float]) -> tuple[float, float]:
    """The bottom and top of a money axis in cents: from zero (or the round step below a negative amount) to at
    least the largest value, in four round steps of whole dollars."""
    low, high = min([0, *values]), max([0, *values])
    step = _money_step(max((high - low) / 4, 1))
    while True:
        bottom = -step * -(low // step) if low < 0 else 0  # a whole number of steps at or below `low`
        if bottom + 4 * step >= high:
            return bottom, bottom + 4 * step
        step = _money_step(step + 1)


def line_chart(chart_id: str, title: str, description: str, x_labels: Sequence[str], lines: Sequence[Line], *,
               y_max: float | None = None, y_min: float = 0,
               y_format: Callable[[float], str] = lambda v: f"{v:g}") -> Chart:
    known = [v for line in lines for v in line.values if v is not None]
    if not x_labels or not known:
        return Chart(chart_id, title, description, [], [], [], empty=True)
    top = y_max if y_max is not None else _nice_max(max(known))
    left, upper, right, bottom = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM
    count = len(x_labels)

    def x_at(i: int) -> float:
        return left + (right - left) * (i / (count - 1) if count > 1 else 0.5)

    def y_at(v: float) -> float:
        return bottom - (bottom - upper) * ((min(max(v, y_min), top) - y_min) / (top - y_min))

    series = []
    for line in lines:
        segments, run, dots = [], [], []
        for i, value in enumerate(line.values):
            if value is None:
                if run:
                    segments.append(" ".join(run))
                run = []
                continue
            x, y = round(x_at(i), 1), round(y_at(value), 1)
            run.append(f"{x},{y}")
            dots.append((x, y, f"{x_labels[i]}: {y_format(value)}"))
        if run:
            segments.append(" ".join(run))
        series.append(Series(line.label, line.css, segments, dots if count <= 40 else [], line.dashed))
    y_ticks = [(round(y_at(value), 1), y_format(value)) for value in
               (y_min + (top - y_min) * k / 4 for k in range(5))]
    every = max(1, -(-count // MAX_X_LABELS))
    x_ticks = [(round(x_at(i), 1), label, _anchor(i, count)) for i, label in enumerate(x_labels) if i % every == 0]
    return Chart(chart_id, title, description, series, y_ticks, x_ticks)


def _anchor(i: int, count: int) -> str:
    """A label centred on the first or last point would run past the edge of the viewBox and be cut off."""
    if count > 1 and i == 0:
        return "start"
    return "end" if count > 1 and i == count - 1 else "middle"


def percent_label(value: float) -> str:
    return f"{value:g}%"


def dollars_label(cents: float) -> str:
    """An axis tick or a point's label, in whole dollars ("$10K" from ten thousand): an axis, not an amount paid.

    A tick falls between whole cents (a quarter of the axis), so it is rounded to the cent before it is written.
    """
    return format_axis_cents(round(cents))


def weekly_negative_chart(weeks: Sequence[WeekPoint]) -> Chart:
    """The complete weeks only: a week still in progress would show a share of the few samples given so far as if
    it were the week's (the table beside the chart marks it)."""
    weeks = [w for w in weeks if w.is_complete]
    labels = [w.week_on.strftime("%d %b %y") for w in weeks]
    return line_chart(
        "chart-weekly", "Percent negative by week",
        "Share of negative samples each calendar week: among samples submitted, and intent to treat "
        "(missed samples count as positive).", labels,
        [Line("Of samples submitted", "series-a", [w.percent_submitted for w in weeks]),
         Line("Intent to treat", "series-b", [w.percent_itt for w in weeks], dashed=True)],
        y_max=100, y_format=percent_label)


def retention_chart(points: Sequence[RetentionPoint]) -> Chart:
    return line_chart(
        "chart-retention", "Retention curve",
        "Share of enrolments still coming in each programme week, among those enrolled that long.",
        [f"Wk {p.week}" for p in points],
        [Line("Still coming", "series-a", [p.percent for p in points])],
        y_max=100, y_format=percent_label)


def spend_chart(months: Sequence[MonthSpend], budget_cents: int | None) -> Chart:
    lines = [Line("Cumulative spend", "series-a", [m.cumulative_cents for m in months])]
    if budget_cents:
        lines.append(Line("Budget", "series-budget", [budget_cents] * len(months), dashed=True))
    bottom, top = money_axis([m.cumulative_cents for m in months] + [budget_cents or 0])
    return line_chart(
        "chart-spend", "Cumulative spend against budget",
        "Value of points awarded and prizes won, added up month by month, with the programme's budget.",
        [m.month.strftime("%b %Y") for m in months], lines, y_max=top, y_min=bottom, y_format=dollars_label)
