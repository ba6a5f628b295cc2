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
    x_ticks: list[tuple[float, str]]
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


def line_chart(chart_id: str, title: str, description: str, x_labels: Sequence[str], lines: Sequence[Line], *,
               y_max: float | None = None, y_format: Callable[[float], str] = lambda v: f"{v:g}") -> Chart:
    known = [v for line in lines for v in line.values if v is not None]
    if not x_labels or not known:
        return Chart(chart_id, title, description, [], [], [], empty=True)
    top = y_max if y_max is not None else _nice_max(max(known))
    left, upper, right, bottom = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM
    count = len(x_labels)

    def x_at(i: int) -> float:
        return left + (right - left) * (i / (count - 1) if count > 1 else 0.5)

    def y_at(v: float) -> float:
        return bottom - (bottom - upper) * (min(v, top) / top)

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
    y_ticks = [(round(y_at(top * k / 4), 1), y_format(top * k / 4)) for k in range(5)]
    every = max(1, -(-count // MAX_X_LABELS))
    x_ticks = [(round(x_at(i), 1), label) for i, label in enumerate(x_labels) if i % every == 0]
    return Chart(chart_id, title, description, series, y_ticks, x_ticks)


def percent_label(value: float) -> str:
    return f"{value:g}%"


def dollars_label(cents: float) -> str:
    """An axis tick or a point's label, in whole dollars ("$10K" from ten thousand): an axis, not an amount paid.

    A tick falls between whole cents (a quarter of the axis), so it is rounded to the cent before it is written.
    """
    return format_axis_cents(round(cents))


def weekly_negative_chart(weeks: Sequence[WeekPoint]) -> Chart:
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
    top = max([m.cumulative_cents for m in months] + [budget_cents or 0], default=0)
    return line_chart(
        "chart-spend", "Cumulative spend against budget",
        "Value of points awarded and prizes won, added up month by month, with the programme's budget.",
        [m.month.strftime("%b %Y") for m in months], lines,
        y_max=_nice_max(top * 1.05) if top else None, y_format=dollars_label)
