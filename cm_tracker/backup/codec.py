"""The portable form of a row, the same whichever database wrote it, so an archive of SQLite restores into
PostgreSQL and back (docs/operations.md, "The archive").

A row is a JSON array of its values in the manifest's column order, one line each, written with no spaces and with
non-ASCII characters as they are. By portable type:

- int, str, bool: as JSON;
- date: "YYYY-MM-DD"; datetime: UTC ISO 8601, always with microseconds ("2026-12-02T00:35:45.123456+00:00"; SQLite
  keeps UTC without a zone, models/types.UTCDateTime, as "2026-12-02 00:35:45.123456");
- bytes: base64;
- json: the document's text exactly as stored, as a JSON string, so SQL NULL and a JSON null stay apart and the text
  (its key order included) comes back byte for byte.

A table's checksum is the sha256 of its lines, in primary-key order (text keys compared as bytes, PostgreSQL's
"C" collation, which is SQLite's order).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Select, Table, Text, cast, select, type_coerce, types
from sqlalchemy.engine import Connection, Dialect

from cm_tracker.backup.errors import BackupError

Row = list[Any]
BATCH = 2_000  # rows per fetch and per insert: constant memory, few round trips

# Checked in this order: Boolean and the JSON types are not Integer or String subclasses, but Enum is a String.
PORTABLE_TYPES: tuple[tuple[str, type[types.TypeEngine[Any]]], ...] = (
    ("bool", types.Boolean), ("int", types.Integer), ("datetime", types.DateTime), ("date", types.Date),
    ("json", types.JSON), ("bytes", types.LargeBinary), ("str", types.String),
)


def portable_type(column: Column[Any]) -> str:
    for name, kind in PORTABLE_TYPES:
        if isinstance(column.type, kind):
            return name
    raise BackupError("schema", f"{column.table.name}.{column.name} has a type ({column.type}) with no portable "
                                "form")


def ordered_select(table: Table, dialect: Dialect) -> Select[Any]:
    """Every column in primary-key order (or in the order of every column, without one): JSON as its stored text,
    and on SQLite dates and times as their stored text, which is nearly the portable form already."""
    keys = list(table.primary_key.columns) or list(table.columns)
    raw = dialect.name == "sqlite"
    return select(*(_read_expression(c, raw) for c in table.columns)).order_by(
        *(_order_key(c, dialect) for c in keys))


def _read_expression(column: Column[Any], raw: bool) -> ColumnElement[Any]:
    if isinstance(column.type, types.JSON):
        return cast(column, Text).label(column.name)
    if raw and isinstance(column.type, types.DateTime | types.Date):
        return type_coerce(column, Text).label(column.name)
    return column


def _order_key(column: Column[Any], dialect: Dialect) -> ColumnElement[Any]:
    if dialect.name == "postgresql" and isinstance(column.type, types.String):
        return column.collate("C")
    return column


def _steps(kinds: list[str], make: dict[str, Callable[[Any], Any]]) -> list[tuple[int, Callable[[Any], Any]]]:
    return [(index, make[kind]) for index, kind in enumerate(kinds) if kind in make]


def encoder(kinds: list[str], dialect: Dialect) -> Callable[[Iterable[Any]], bytes]:
    """A function from a row as `ordered_select` reads it on `dialect` to its canonical line (with its newline)."""
    steps = _steps(kinds, _ENCODE_SQLITE if dialect.name == "sqlite" else _ENCODE)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def encode(values: Iterable[Any]) -> bytes:
        row = list(values)
        for index, step in steps:
            if row[index] is not None:
                row[index] = step(row[index])
        return dumps(row).encode() + b"\n"

    return encode


def _iso_utc(value: datetime) -> str:
    text = value.isoformat(timespec="microseconds")
    if text.endswith("+00:00"):  # a session in UTC (utc_session) hands out times already in the portable form
        return text
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def utc_session(connection: Connection) -> None:
    """PostgreSQL hands out times in the session's zone: UTC for this transaction, so none needs converting."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")


def _sqlite_time(value: str) -> str:
    """SQLite's stored "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) in the portable form; any other spelling parsed."""
    if len(value) == 26 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}+00:00"
    return _iso_utc(datetime.fromisoformat(value))


def _b64(value: Any) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


_ENCODE: dict[str, Callable[[Any], Any]] = {
    "bool": bool, "date": lambda v: v.isoformat(), "datetime": _iso_utc, "bytes": _b64,
}
_ENCODE_SQLITE: dict[str, Callable[[Any], Any]] = {
    "bool": bool, "date": lambda v: date.fromisoformat(v).isoformat(), "datetime": _sqlite_time, "bytes": _b64,
}


def decoder(kinds: list[str], dialect: Dialect) -> Callable[[Row], list[Any]]:
    """A function from a decoded line to the values to insert on `dialect`: on SQLite its stored forms, on
    PostgreSQL (COPY parses text by the column's type) the portable strings as they are."""
    steps = _steps(kinds, _DECODE_SQLITE if dialect.name == "sqlite" else _DECODE)
    width = len(kinds)

    def decode(row: Row) -> list[Any]:
        if not isinstance(row, list) or len(row) != width:
            raise ValueError(f"a row must be a list of {width} values")
        for index, step in steps:
            if row[index] is not None:
                row[index] = step(row[index])
        return row

    return decode


def _stored_time(value: str) -> str:
    """The portable time as SQLite keeps it (UTC, no zone), the format SQLAlchemy writes."""
    if len(value) == 32 and value[10] == "T" and value.endswith("+00:00"):
        return f"{value[:10]} {value[11:26]}"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _json_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a JSON column's value must be its stored text")
    return value


def _date_text(value: Any) -> str:
    return date.fromisoformat(value).isoformat()


_DECODE: dict[str, Callable[[Any], Any]] = {"bytes": base64.b64decode, "json": _json_text}
_DECODE_SQLITE: dict[str, Callable[[Any], Any]] = {"bytes": base64.b64decode, "json": _json_text,
                                                   "date": _date_text, "datetime": _stored_time,
                                                   "bool": lambda v: int(bool(v))}


def table_chunks(connection: Connection, table: Table) -> Iterator[tuple[bytes, int]]:
    """A table's canonical lines as this connection's transaction sees it, a fetched batch at a time:
    (the batch's lines joined, how many)."""
    encode = encoder([portable_type(c) for c in table.columns], connection.dialect)
    result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
        ordered_select(table, connection.dialect))
    for batch in result.partitions(BATCH):
        yield b"".join(encode(values) for values in batch), len(batch)


def table_digest(connection: Connection, table: Table) -> tuple[int, str]:
    """(rows, sha256 of their lines): what a restore compares with the manifest once the rows are in."""
    digest, rows = hashlib.sha256(), 0
    for chunk, count in table_chunks(connection, table):
        digest.update(chunk)
        rows += count
    return rows, digest.hexdigest()
