"""CSV exports, streamed line by line: every report table, the full ledger, and the de-identified funders' export.

The ledger export reads with a server-side cursor in batches (yield_per), so memory stays flat however long the
ledger is. The funders' export leaves the programme, so it follows docs/rules.md 8: aggregate rows per programme and
year only, no names, record numbers or dates finer than the year, and every count from 1 to 10 shown as "<11"
(with the rates computed from such a small group withheld too, since a rate over a handful of people can point
at one of them).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, EventType, LedgerEntry, Program
from cm_tracker.money import plain_dollars
from cm_tracker.services.queries.reports.measures import Measures, pool
from cm_tracker.services.queries.reports.outcomes import enrollment_counts
from cm_tracker.services.queries.reports.sql import Scope

SUPPRESSED = "<11"
WITHHELD = "suppressed"
SMALL_CELL = 10
LEDGER_BATCH = 2000


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """One CSV line at a time (RFC 4180 quoting, CRLF), so a response can stream a table of any length."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield _take(buffer)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


LEDGER_HEADER = ("entry_id", "created_at", "occurred_at", "patient_id", "enrollment_id", "program", "kind", "target",
                 "points", "draws", "value_usd", "event_type", "event_id", "reason")


def ledger_rows(program_id: int | None) -> Iterator[Sequence[Any]]:
    """Every ledger entry (of one programme, or all), oldest first, read in batches from a server-side cursor."""
    query = (select(LedgerEntry.id, LedgerEntry.created_at, LedgerEntry.occurred_at, LedgerEntry.patient_id,
                    LedgerEntry.enrollment_id, Program.name, LedgerEntry.kind, LedgerEntry.target_key,
                    LedgerEntry.points, LedgerEntry.draws, LedgerEntry.value_cents, LedgerEntry.event_type,
                    LedgerEntry.event_id, LedgerEntry.reason)
             .join(Enrollment, Enrollment.id == LedgerEntry.enrollment_id)
             .join(Program, Program.id == Enrollment.program_id).order_by(LedgerEntry.id))
    if program_id is not None:
        query = query.where(Enrollment.program_id == program_id)
    result = db.session.execute(query.execution_options(yield_per=LEDGER_BATCH, stream_results=True))
    for (eid, created, occurred, pid, enr, program, kind, target, points, draws, cents, etype, event_id,
         reason) in result:
        yield (eid, created.isoformat(), occurred.isoformat() if occurred else "", pid, enr, program, str(kind),
               target or "", points, draws, plain_dollars(cents), str(etype) if isinstance(etype, EventType) else "",
               event_id if event_id is not None else "", reason)


def suppress(count: int) -> int | str:
    return SUPPRESSED if 1 <= count <= SMALL_CELL else count


FUNDER_HEADER = (
    "program", "funding_source", "year", "enrollments", "new_enrollments", "completed", "discharged",
    "reaching_4_weeks_abstinence", "percent_negative_submitted", "percent_negative_itt", "lda_samples_mean",
    "lda_weeks_mean", "retention_weeks_mean", "attendance_rate", "earned_usd", "redeemed_usd", "outstanding_usd",
)  # fmt: skip


def funder_row(program: Program, year: int, measures: Measures, new: int, statuses: dict[str, int]) -> list[Any]:
    """One programme-year: counts suppressed from 1 to 10; rates and money withheld when the group is that small."""
    small = 1 <= measures.enrollments <= SMALL_CELL
    rates = [measures.percent_negative_submitted, measures.percent_negative_itt, measures.lda_samples_mean,
             measures.lda_weeks_mean, measures.retention_weeks_mean, measures.attendance_rate]
    money = [plain_dollars(measures.earned_cents), plain_dollars(measures.redeemed_cents),
             plain_dollars(measures.outstanding_cents)]
    return [program.name, program.funding_source, year, suppress(measures.enrollments), suppress(new),
            suppress(statuses.get("completed", 0)), suppress(statuses.get("discharged", 0)),
            suppress(measures.abstinent_4_weeks),
            *([WITHHELD] * len(rates) if small else ["" if r is None else r for r in rates]),
            *([WITHHELD] * len(money) if small else money)]


def _years(program: Program, today: date) -> list[int]:
    first = db.session.scalar(select(func.min(Enrollment.start_on)).where(Enrollment.program_id == program.id))
    return list(range(first.year, today.year + 1)) if first else []


def funder_rows(programs: Iterable[Program], today: date) -> Iterator[list[Any]]:
    """Per programme and calendar year: the outcome measures pooled over the enrolments active that year."""
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

