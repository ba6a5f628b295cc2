"""Writing the report cache of one enrolment (EventOutcome, EnrollmentWeek and EnrollmentSummary rows) from an
evaluation, by difference: the rows themselves are built by queries.reports.summaries.

`refresh_outcomes` is called by usecases.reevaluation after every re-evaluation, in the use case's transaction. What
it reads (the events' facts, the visits, the ledger's other entries and the rows already stored) may be read
earlier by `read_cache`, before the write locks the enrolment: a desk entry then holds the lock only while it writes
(docs/architecture.md, "Writes: compute, then lock"); the claim of the enrolment's version proves nothing moved in
between.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from cm_tracker.engine.program import ProgramEvaluation
from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    ClinicClosure,
    Enrollment,
    EnrollmentSummary,
    EventOutcome,
    Excuse,
    GoalActivity,
    LedgerEntry,
    ScheduledVisit,
    Specimen,
    VisitKind,
)
from cm_tracker.models.reporting import EnrollmentWeek
from cm_tracker.services.core.clinic import clinic_today, start_of_day
from cm_tracker.services.queries.reports.summaries import (
    NO_LEDGER,
    OTHER_KINDS,
    EventFacts,
    activity_facts,
    attendance_facts,
    ledger_totals,
    outcome_rows,
    specimen_facts,
    summary_of,
    week_rows,
)

LedgerRow = tuple[int, str, Any, int, int]  # id, kind, when (occurred, else created), points, value_cents


@dataclass(frozen=True)
class CacheRead:
    """What refreshing one enrolment's cache reads, on the clinic date `today`."""

    today: date
    facts: dict[Hashable, EventFacts]
    scheduled: list[date]  # test visits due before today
    excused: set[date]  # dates excused by an excuse or a clinic closure
    visit_days: int  # visit days due before today
    last_entry: int | None  # the enrolment's newest ledger entry
    other_entries: list[LedgerRow]  # its manual, redemption and prize entries
    outcomes: dict[Hashable, Any]  # stored rows by (target, event type, event id)
    weeks: dict[Hashable, Any]  # by week
    summary: dict[Hashable, Any]  # by enrolment (one or none)


def read_cache(enrollment_id: int) -> CacheRead:
    """Everything refresh_outcomes needs besides the evaluation; nothing is written."""
    today = clinic_today()
    scheduled, excused, days = _visits_of(enrollment_id, today)
    last = db.session.scalar(select(func.max(LedgerEntry.id)).where(LedgerEntry.enrollment_id == enrollment_id))
    others = db.session.execute(select(
        LedgerEntry.id, LedgerEntry.kind, LedgerEntry.occurred_at, LedgerEntry.created_at, LedgerEntry.points,
        LedgerEntry.value_cents).where(LedgerEntry.enrollment_id == enrollment_id,
                                       LedgerEntry.kind.in_(OTHER_KINDS))) if last is not None else []
    o, w, m = EventOutcome.__table__, EnrollmentWeek.__table__, EnrollmentSummary.__table__
    outcomes = _stored(list(o.c), o.c.enrollment_id == enrollment_id)
    return CacheRead(
        today, _facts_of(enrollment_id), scheduled, excused, days, last,
        [(i, k, occurred or created, p, v) for i, k, occurred, created, p, v in others],
        {(r.target_key, str(r.event_type), r.event_id): r for r in outcomes},
        {r.week_on: r for r in _stored(list(w.c), w.c.enrollment_id == enrollment_id)},
        {r.enrollment_id: r for r in _stored(list(m.c), m.c.enrollment_id == enrollment_id)},
    )  # fmt: skip


def refresh_outcomes(enrollment: Enrollment, evaluation: ProgramEvaluation, read: CacheRead | None = None, *,
                     changed: Mapping[Hashable, EventFacts] | None = None,
                     posted: Iterable[LedgerEntry] = ()) -> None:
    """Bring the enrollment's cached outcomes, weeks and summary to this evaluation's, writing only the rows that
    differ (a desk entry changes one or two of an episode's rows); the caller's transaction commits them.

    With `read` (read_cache before the lock), `changed` holds the facts of the events this write added or changed
    and `posted` the ledger entries it posted (flushed), which the read could not see; otherwise all is read now."""
    db.session.flush()
    if read is None:
        read = read_cache(enrollment.id)
    facts = {**read.facts, **(changed or {})}
    rows = list(outcome_rows(enrollment.id, enrollment.patient_id, enrollment.program_id, evaluation, facts))
    last = max([read.last_entry or 0, *(e.id for e in posted)]) or None
    ledger = dict(NO_LEDGER) if last is None else ledger_totals(read.other_entries, last,
                                                                start_of_day(read.today + timedelta(days=1)))
    summary = summary_of(enrollment.id, enrollment.patient_id, enrollment.program_id, rows, read.scheduled,
                         read.excused, read.today, read.visit_days, ledger)
    _apply(EventOutcome, rows, dict(read.outcomes), lambda r: (r["target_key"], str(r["event_type"]), r["event_id"]),
           lambda old: {"id": old.id},
           lambda gone: delete(EventOutcome).where(EventOutcome.id.in_([g.id for g in gone])))
    _apply(EnrollmentWeek, week_rows(enrollment.id, enrollment.program_id, rows, read.scheduled), dict(read.weeks),
           lambda r: r["week_on"], lambda old: {},
           lambda gone: delete(EnrollmentWeek).where(EnrollmentWeek.enrollment_id == enrollment.id,
                                                     EnrollmentWeek.week_on.in_([g.week_on for g in gone])))
    _apply(EnrollmentSummary, [summary], dict(read.summary), lambda r: r["enrollment_id"], lambda old: {},
           lambda gone: delete(EnrollmentSummary).where(EnrollmentSummary.enrollment_id.in_(
               [g.enrollment_id for g in gone])))


def facts_of_rows(specimens: Iterable[Any] = (), attendance: Iterable[Any] = (),
                  activities: Iterable[Any] = ()) -> dict[Hashable, EventFacts]:
    """The facts of rows a write added or changed, from memory."""
    facts: dict[Hashable, EventFacts] = {("specimen", s.id): specimen_facts(s.status) for s in specimens}
    facts.update({("attendance", a.id): attendance_facts(a.status) for a in attendance})
    facts.update({("activity", g.id): activity_facts(g.status) for g in activities})
    return facts


def _visits_of(enrollment_id: int, before: date) -> tuple[list[date], set[date], int]:
    """Test visit dates and the number of visit days due before `before`, and the dates excused."""
    visits = db.session.execute(select(ScheduledVisit.due_on, ScheduledVisit.kind).where(
        ScheduledVisit.enrollment_id == enrollment_id, ScheduledVisit.due_on < before)).all()
    scheduled = [due for due, kind in visits if kind == VisitKind.TEST]
    days = len({due for due, _ in visits})
    if not scheduled:
        return scheduled, set(), days
    excused = set(db.session.scalars(select(Excuse.excused_on).where(
        Excuse.enrollment_id == enrollment_id, Excuse.revoked_at.is_(None))))
    excused |= set(db.session.scalars(select(ClinicClosure.closed_on).where(
        ClinicClosure.closed_on.in_(scheduled))))
    return scheduled, excused, days


def _facts_of(enrollment_id: int) -> dict[Hashable, EventFacts]:
    facts: dict[Hashable, EventFacts] = {}
    for sid, status in db.session.execute(
            select(Specimen.id, Specimen.status).where(Specimen.enrollment_id == enrollment_id)):
        facts[("specimen", sid)] = specimen_facts(status)
    attendance = select(AttendanceRecord.id, AttendanceRecord.status)
    for aid, status in db.session.execute(attendance.where(AttendanceRecord.enrollment_id == enrollment_id)):
        facts[("attendance", aid)] = attendance_facts(status)
    for gid, status in db.session.execute(
            select(GoalActivity.id, GoalActivity.status).where(GoalActivity.enrollment_id == enrollment_id)):
        facts[("activity", gid)] = activity_facts(status)
    return facts


# Rows are written by difference: a desk entry re-evaluates the whole episode yet changes one or two of its ~40
# outcome rows, so deleting and re-inserting them all wrote (and re-indexed) a page of rows per entry.

def _differs(stored: Any, row: dict[str, Any]) -> bool:
    """Stored enums are StrEnum members and compare equal to their values; booleans, dates and aware times compare
    as they are."""
    return any(getattr(stored, name) != value for name, value in row.items())


def _apply(model: Any, rows: Sequence[dict[str, Any]], stored: dict[Hashable, Any],
           key: Callable[[dict[str, Any]], Hashable], identity: Callable[[Any], dict[str, Any]],
           remove: Callable[[list[Any]], Any]) -> None:
    """Insert the new keys, update the changed rows by primary key, delete the keys no longer there."""
    inserts, updates = [], []
    for row in rows:
        old = stored.pop(key(row), None)
        if old is None:
            inserts.append(row)
        elif _differs(old, row):
            updates.append({**row, **identity(old)})
    if stored:
        db.session.execute(remove(list(stored.values())))
    if updates:
        db.session.execute(update(model), updates)
    if inserts:
        db.session.execute(insert(model), inserts)


def _stored(columns: Sequence[Any], *where: Any) -> list[Any]:
    return list(db.session.execute(select(*columns).where(*where)))
