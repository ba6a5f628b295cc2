"""What templates may ask: the permission predicates and formatting, so templates never re-derive a rule."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, url_for
from markupsafe import Markup, escape

from cm_tracker import i18n, permissions


def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(current_app.config["CLINIC_TIMEZONE"])).strftime(fmt)


def day(value: date | None) -> str:
    return _day(value) if value else ""


@lru_cache(maxsize=1024)
def _day(value: date) -> str:
    # The caseload writes three dates for each of 150 patients, most of them shared (start dates, next visits), and
    # strftime costs several times a cache lookup.
    return value.strftime("%a %d %b %Y")


# Stand-ins for the ids while a URL pattern is built: valid ids (below 2**31) that no real URL part contains.
_MARK = 2_147_480_000


def id_url(endpoint: str, **ids: int) -> str:
    """`url_for(endpoint, **ids)` for a route whose arguments are all integer ids, built by Werkzeug once per
    request and endpoint and then filled in: the caseload links each of 150 patients two or three times, and each
    url_for costs about as much as the rest of the row."""
    patterns: dict[tuple[str, tuple[str, ...]], str] | None = g.get("id_url_patterns")
    if patterns is None:
        patterns = g.id_url_patterns = {}
    key = (endpoint, tuple(ids))  # a template passes the ids in the same order each time
    pattern = patterns.get(key)
    if pattern is None:
        pattern = patterns[key] = _id_pattern(endpoint, key[1])
    return pattern.format_map(ids)


def _id_pattern(endpoint: str, names: tuple[str, ...]) -> str:
    """The URL with a `{name:d}` field for each id: the `d` refuses anything but an integer, as url_for's int
    converter would."""
    marks = {name: _MARK + n for n, name in enumerate(names)}
    pattern = url_for(endpoint, **marks).replace("{", "{{").replace("}", "}}")
    for name, mark in marks.items():
        pattern = pattern.replace(str(mark), "{" + name + ":d}")
    return pattern


def money_points(points: int, cents: int) -> Markup:
    """A balance as "1,234 points" and what they are worth, in two spans: a Python function rather than a macro,
    since the caseload writes one per patient and a Jinja macro call costs several times as much."""
    unit = "point" if points in (1, -1) else "points"
    return Markup(f'<span class="points">{points:,} {unit}</span>\n'
                  f'<span class="money">{escape(i18n.money(cents))}</span>')


def register(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(day, "day")
    app.add_template_global(id_url, "id_url")
    app.add_template_global(money_points, "money_points")

    @app.context_processor
    def _permissions() -> dict[str, Any]:
        names = [name for name in dir(permissions) if name.startswith(("can_", "is_", "caseload_"))]
        return {name: getattr(permissions, name) for name in names}
