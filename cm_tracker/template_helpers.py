"""What templates may ask: the permission predicates and formatting, so templates never re-derive a rule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from cm_tracker import permissions


def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(current_app.config["CLINIC_TIMEZONE"])).strftime(fmt)


def day(value: date | None) -> str:
    return value.strftime("%a %d %b %Y") if value else ""


def register(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(day, "day")

    @app.context_processor
    def _permissions() -> dict[str, Any]:
        names = [name for name in dir(permissions) if name.startswith(("can_", "is_", "caseload_"))]
        return {name: getattr(permissions, name) for name in names}
