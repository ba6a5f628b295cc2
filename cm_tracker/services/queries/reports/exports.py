"""CSV exports, streamed in chunks: every report table, the full ledger, and the de-identified funders' export.

Every export is written about a thousand rows at a time (one chunk of the response each) and ends with a last row
that states how many rows came before it (`# end of export: 608123 rows`, docs/reports.md): a file cut short by
a dropped connection, a timeout or an error has no such row, so it can never pass for a complete one. An error
while streaming is logged (its class and traceback, never its message: cm_tracker/logs.py), ends the text with a
row saying the file is incomplete (`# export failed after 3000 rows: this file is incomplete`) in place of that
row, and is raised again, so the server also drops the connection and the transfer itself is left unfinished.

The ledger export reads with a server-side cursor in batches (yield_per; SQLite's cursor steps through the rows),
so memory stays flat however long the ledger is. The funders' export leaves the programme, so it follows
docs/rules.md 8: aggregate rows per programme and year only, no names, record numbers or dates finer than the
year, and every count from 1 to 10 shown as "<11" (with the rates computed from such a small group withheld too,
since a rate over a handful of people can point at one of them, and the related counts that would give a small one
away by subtraction: disclosure.py).

Every cell goes through `spreadsheet_cell` on its way out: names, record numbers, reasons and item names are typed
by people, and a spreadsheet runs a cell such as `=HYPERLINK(...)` as a formula when it opens the file. The ledger's
rows get it from `ledger_rows` itself, in its text columns only (CheckedRows), the other cell checks costing the
longest export more than a tenth of its time.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import chain, islice
from numbers import Number
from typing import Any

from sqlalchemy import Select, func, select

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, LedgerEntry, Program
from cm_tracker.money import plain_dollars
from cm_tracker.services.queries.reports.disclosure import WITHHELD, Parts, is_small, shown
from cm_tracker.services.queries.reports.measures import Measures, pool
from cm_tracker.services.queries.reports.outcomes import enrollment_counts
from cm_tracker.services.queries.reports.sql import Scope

CHUNK_ROWS = 1000
END_OF_EXPORT = "# end of export: {rows} rows"
EXPORT_FAILED = "# export failed after {rows} rows: this file is incomplete"
log = logging.getLogger(__name__)


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]], chunk: int = CHUNK_ROWS, *,
              notice: Sequence[str] | None = None) -> Iterator[str]:
    """The CSV text (RFC 4180 quoting, CRLF; None written empty; every cell as `spreadsheet_cell` makes it) in
    chunks of `chunk` rows, the header first and the end-of-export row last. An error on the way ends the text
    with the failure row instead (after the rows of the chunks already sent) and is raised again. Every CSV the
    product writes goes through here. `notice`, when given, is a row written above the header: the Part 2 notice
    (core.part2.CSV_NOTICE_ROW) on every CSV that names patients."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield _written(writer, buffer, [notice, header] if notice else [header])
    written = _written_as_they_are if isinstance(rows, CheckedRows) else _written
    batches = rows.batches if isinstance(rows, CheckedRows) and rows.size == chunk else _chunks(iter(rows), chunk)
    count, tail = 0, ""
    try:
        for batch in batches:
            text = written(writer, buffer, batch)
            count += len(batch)
            if len(batch) < chunk:  # the last
                tail = text
            else:
                yield text
    except Exception:  # a client gone away is GeneratorExit, not caught: nobody is left to read a failure row
        log.exception("CSV export failed after %d rows; it ends with its failure row", count)
        buffer.seek(0)
        buffer.truncate()  # a row half-written by the failing chunk
        yield _written(writer, buffer, [(EXPORT_FAILED.format(rows=count),)])
        raise
    yield tail + _written(writer, buffer, [(END_OF_EXPORT.format(rows=count),)])


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def spreadsheet_cell(value: Any) -> Any:
    """`value` as a spreadsheet reads it as data, never as a formula (OWASP, "CSV Injection"): text that starts
    with =, +, -, @, a tab or a carriage return gets a leading single quote, which spreadsheets take as "this is
    text". Numbers stay numbers, negative ones too: a number, or text that is nothing but a decimal number ("-150",
    "-2.50" as money.plain_dollars writes dollars), is no formula in any spreadsheet."""
    if value is None or isinstance(value, Number):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return value


_PLAIN = frozenset((int, float, Decimal, bool, type(None)))


def _written(writer: Any, buffer: io.StringIO, batch: Sequence[Sequence[Any]]) -> str:
    """The rows as CSV text, every cell as `spreadsheet_cell` makes it. The checks are inline, and a row of
    numbers and of text that starts harmlessly (most rows of the ledger) is written as it is, because a call per
    cell would double the time the ledger export spends writing (inline, they add about half)."""
    writer.writerows([_spreadsheet_row(row) for row in batch])
    return _take(buffer)


def _chunks(rows: Iterator[Sequence[Any]], chunk: int) -> Iterator[list[Sequence[Any]]]:
    while batch := list(islice(rows, chunk)):
        yield batch


class CheckedRows(Iterator[Sequence[Any]]):
    """Rows in batches of `size` (the last may be shorter), whose producer has already made every cell as
    `spreadsheet_cell` would (ledger_rows: its few text columns, the others being numbers and the times and
    dollars it writes); `csv_lines` writes such a batch as it is, as one chunk (or, asked for another chunk size,
    cuts the rows into chunks of that size, still without checking them again)."""

    def __init__(self, batches: Iterator[list[Sequence[Any]]], size: int) -> None:
        self.batches, self.size = batches, size
        self._rows = chain.from_iterable(batches)

    def __next__(self) -> Sequence[Any]:
        return next(self._rows)


def _written_as_they_are(writer: Any, buffer: io.StringIO, batch: Sequence[Sequence[Any]]) -> str:
    writer.writerows(batch)
    return _take(buffer)


def _spreadsheet_row(row: Sequence[Any]) -> Sequence[Any]:
    for value in row:
        if value.__class__ not in _PLAIN and (value.__class__ is not str or value.startswith(FORMULA_START)):
            return [v if v.__class__ in _PLAIN or (v.__class__ is str and not v.startswith(FORMULA_START))
                    else spreadsheet_cell(v) for v in row]
    return row


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


LEDGER_HEADER = ("entry_id", "created_at", "occurred_at", "patient_id", "enrollment_id", "program", "kind", "target",
                 "points", "draws", "value_usd", "event_type", "event_id", "reason")


def _utc_text(value: datetime | str) -> str:
    """A stored time as models.types.UTCDateTime would load it, written as ISO 8601 ("2026-11-02T17:00:00+00:00"):
    SQLite's driver hands back the naive UTC text it stored, PostgreSQL's an aware time in the session's zone."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":  # SQLAlchemy's SQLite format, "2026-11-02 17:00:00.000000"
            return (value[:10] + "T" + (value[11:19] if value.endswith(".000000") else value[11:])) + "+00:00"
        if len(value) == 19 and value[10] == " " and value[16] == ":":  # sqlite3's, "2026-11-02 17:00:00"
            return value[:10] + "T" + value[11:] + "+00:00"
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.isoformat() + "+00:00"
    return value.astimezone(UTC).isoformat()


class _Once(dict[Any, Any]):
    """`make(value)` for each distinct value, made the first time it is asked for (a dict's __missing__, so a
    value seen before costs one lookup)."""

    def __init__(self, make: Callable[[Any], Any]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, value: Any) -> Any:
        made = self[value] = self._make(value)
        return made


def ledger_rows(program_id: int | None) -> CheckedRows:
    """Every ledger entry (of one programme, or all), oldest first, read in batches from a server-side cursor.

    The export is hundreds of thousands of rows, so they are read from the driver's cursor itself (kinds as the
    strings they are stored as, times as `_utc_text` writes them), without SQLAlchemy's per-row and per-value
    processing; a few hundred distinct amounts recur, so each is written as dollars once (money.plain_dollars).
    The rows come out checked (CheckedRows): the programme, kind, target and event type, a few hundred distinct
    values, go through `spreadsheet_cell` once each, the reason (free text) row by row, and the other cells are
    integer columns and the times and dollars written here, which never start a formula."""
    return CheckedRows(_ledger_batches(program_id), CHUNK_ROWS)


def _ledger_batches(program_id: int | None) -> Iterator[list[Sequence[Any]]]:
    query = (select(LedgerEntry.id, LedgerEntry.created_at, LedgerEntry.occurred_at, LedgerEntry.patient_id,
                    LedgerEntry.enrollment_id, Program.name, LedgerEntry.kind, LedgerEntry.target_key,
                    LedgerEntry.points, LedgerEntry.draws, LedgerEntry.value_cents, LedgerEntry.event_type,
                    LedgerEntry.event_id, LedgerEntry.reason)
             .join(Enrollment, Enrollment.id == LedgerEntry.enrollment_id)
             .join(Program, Program.id == Enrollment.program_id).order_by(LedgerEntry.id))
    if program_id is not None:
        query = query.where(Enrollment.program_id == program_id)
    dollars, cells = _Once(plain_dollars), _Once(spreadsheet_cell)
    with _driver_cursor(query) as cursor:
        while batch := cursor.fetchmany(CHUNK_ROWS):
            yield [(eid, _utc_text(created), _utc_text(occurred) if occurred else None, pid, enr, cells[program],
                    cells[kind], cells[target], points, draws, dollars[cents], cells[etype], event_id,
                    reason if reason is None or (reason.__class__ is str and not reason.startswith(FORMULA_START))
                    else spreadsheet_cell(reason))
                   for (eid, created, occurred, pid, enr, program, kind, target, points, draws, cents, etype, event_id,
                        reason) in batch]


def ledger_patient_ids(program_id: int | None) -> list[int]:
    """The patients whose entries `ledger_rows` exports, for the export's audit row."""
    query = select(LedgerEntry.patient_id).distinct()
    if program_id is not None:
        query = query.join(Enrollment, Enrollment.id == LedgerEntry.enrollment_id).where(
            Enrollment.program_id == program_id)
    return list(db.session.scalars(query))


@contextmanager
def _driver_cursor(query: Select[Any]) -> Iterator[Any]:
    """The driver's own cursor over `query`, in the session's transaction: on PostgreSQL a named (server-side)
    cursor, which sends rows as they are fetched; SQLite's cursor steps through the rows as they are fetched."""
    connection = db.session.connection()
    compiled = query.compile(dialect=connection.dialect)
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    raw = connection.connection.driver_connection
    cursor = raw.cursor(name="cm_export") if connection.dialect.name == "postgresql" else raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        yield cursor
    finally:
        cursor.close()


FUNDER_HEADER = (
    "program", "funding_source", "year", "enrollments", "new_enrollments", "completed", "discharged",
    "reaching_4_weeks_abstinence", "percent_negative_submitted", "percent_negative_itt", "lda_samples_mean",
    "lda_weeks_mean", "retention_weeks_mean", "attendance_rate", "earned_usd", "redeemed_usd", "outstanding_usd",
)  # fmt: skip


# How the counts of a funders' row add up (disclosure.Parts): a year's enrolments are new or carried over from the
# year before; active (not shown), completed or discharged; reaching four weeks of abstinence or not.
FUNDER_RELATIONS = (Parts("enrollments", ("new_enrollments",)), Parts("enrollments", ("completed", "discharged")),
                    Parts("enrollments", ("reaching_4_weeks_abstinence",)))


def funder_row(program: Program, year: int, measures: Measures, new: int, statuses: dict[str, int]) -> list[Any]:
    """One programme-year: counts suppressed from 1 to 10, and the related ones that would give such a count away
    (disclosure.withheld); rates and money withheld when the group is that small."""
    counts = shown({"enrollments": measures.enrollments, "new_enrollments": new,
                    "completed": statuses.get("completed", 0), "discharged": statuses.get("discharged", 0),
                    "reaching_4_weeks_abstinence": measures.abstinent_4_weeks}, FUNDER_RELATIONS)
    small = is_small(measures.enrollments)
    rates = [measures.percent_negative_submitted, measures.percent_negative_itt, measures.lda_samples_mean,
             measures.lda_weeks_mean, measures.retention_weeks_mean, measures.attendance_rate]
    money = [plain_dollars(measures.earned_cents), plain_dollars(measures.redeemed_cents),
             plain_dollars(measures.outstanding_cents)]
    return [program.name, program.funding_source, year, *counts.values(),
            *([WITHHELD] * len(rates) if small else ["" if r is None else r for r in rates]),
            *([WITHHELD] * len(money) if small else money)]


def _years(program: Program, today: date) -> list[int]:
    first = db.session.scalar(select(func.min(Enrollment.start_on)).where(Enrollment.program_id == program.id))
    return list(range(first.year, today.year + 1)) if first else []


def funder_rows(programs: Iterable[Program], today: date) -> Iterator[list[Any]]:
    """Per programme and calendar year: the outcome measures pooled over the enrolments active that year. The
    programmes are read now, before the response streams (their rows may be expired by then)."""
    return _funder_rows([Program(id=p.id, name=p.name, funding_source=p.funding_source,
                                 point_value_cents=p.point_value_cents) for p in programs], today)


def _funder_rows(programs: list[Program], today: date) -> Iterator[list[Any]]:
    for program in programs:
        for year in _years(program, today):
            start, end = date(year, 1, 1), min(date(year, 12, 31), today)
            scope = Scope(program.id, None, start, end, min(today, date(year + 1, 1, 1)))
            enrollments, counts = enrollment_counts(scope, program.point_value_cents)
            statuses: dict[str, int] = {}
            for row in enrollments:
                statuses[str(row.status)] = statuses.get(str(row.status), 0) + 1
            new = sum(1 for r in enrollments if r.start_on >= start)
            yield funder_row(program, year, pool(counts.values()), new, statuses)

