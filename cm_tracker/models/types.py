"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, event
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from cm_tracker.timeutil import utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out. SQLite has no time zones, so values are stored as UTC and given their zone on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: store aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_class: type[enum.Enum]) -> Enum:
    """Store an enum by its value in a plain string column (no native types: migrations stay simple)."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        validate_strings=True,
        length=24,
        values_callable=lambda members: [member.value for member in members],
    )


def now_default() -> datetime:
    """A callable default, so the time is read at insert, never at import."""
    return utcnow()




class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or remove a row of an append-only table."""


def make_append_only(model: type[Any]) -> None:
    """Refuse updates and deletes through the ORM; the migrations add database triggers for everything else, and
    `flask db grant-runtime` grants the app's role only SELECT and INSERT on a table marked here."""
    model.__table__.info["append_only"] = True

    def refuse(_mapper: Any, _connection: Any, target: Any) -> None:
        raise AppendOnlyError(f"{type(target).__name__} rows are append-only")

    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)
