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
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Enum,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    type_coerce,
    union_all,
    update,
)

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
from cm_tracker.services.core.ledger import LedgerRow as Entry
from cm_tracker.services.core.ledger import enrollment_ledger
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


def read_cache(enrollment_id: int, *, facts: Mapping[Hashable, EventFacts] | None = None,
               ledger: Sequence[Entry] | None = None) -> CacheRead:
    """Everything refresh_outcomes needs besides the evaluation; nothing is written. A write that read the history
    and the ledger already (core.evaluation.prepare) passes their `facts` (facts_of_rows) and `ledger` rows."""
    today = clinic_today()
    scheduled, excused, days = _visits_of(enrollment_id, today)
    if ledger is None:
        ledger = enrollment_ledger(enrollment_id)
    last = max(map(attrgetter("id"), ledger), default=None)
    others = [(r.id, r.kind, r.occurred_at or r.created_at, r.points, r.value_cents)
              for r in ledger if r.kind in OTHER_KINDS]
    bound = {"enrollment_id": enrollment_id}
    return CacheRead(
        today, _facts_of(enrollment_id) if facts is None else dict(facts), scheduled, excused, days, last,
        sorted(others),
        {_OUTCOME_KEY(r): r for r in db.session.execute(_OUTCOMES, bound).all()},
        {_WEEK_KEY(r): r for r in db.session.execute(_WEEKS, bound).all()},
        {_SUMMARY_KEY(r): r for r in db.session.execute(_SUMMARY, bound).all()},
    )  # fmt: skip


def read_caches(enrollment_ids: Sequence[int], *, facts: Mapping[int, Mapping[Hashable, EventFacts]],
                ledgers: Mapping[int, Sequence[Entry]]) -> dict[int, CacheRead]:
    """read_cache of many enrolments, by id, each with its `facts` and `ledger` as read already, in a fixed handful
    of statements whatever their number (a lab's chunk re-evaluates dozens at once)."""
    if not enrollment_ids:
        return {}
    today = clinic_today()
    visits = _visits_of_many(enrollment_ids, today)
    bound = {"ids": list(enrollment_ids)}
    outcomes: dict[int, dict[Hashable, Any]] = {eid: {} for eid in enrollment_ids}
    weeks: dict[int, dict[Hashable, Any]] = {eid: {} for eid in enrollment_ids}
    summaries: dict[int, dict[Hashable, Any]] = {eid: {} for eid in enrollment_ids}
    for r in db.session.execute(_MANY_OUTCOMES, bound).all():
        outcomes[r.enrollment_id][_OUTCOME_KEY(r)] = r
    for r in db.session.execute(_MANY_WEEKS, bound).all():
        weeks[r.enrollment_id][_WEEK_KEY(r)] = r
    for r in db.session.execute(_MANY_SUMMARIES, bound).all():
        summaries[r.enrollment_id][_SUMMARY_KEY(r)] = r
    read = {}
    for eid in enrollment_ids:
        ledger = ledgers[eid]
        others = [(r.id, r.kind, r.occurred_at or r.created_at, r.points, r.value_cents)
                  for r in ledger if r.kind in OTHER_KINDS]
        scheduled, excused, days = visits[eid]
        read[eid] = CacheRead(today, dict(facts[eid]), scheduled, excused, days, max((r.id for r in ledger),
                              default=None), sorted(others), outcomes[eid], weeks[eid], summaries[eid])
    return read


def _as_stored(table: Table) -> list[ColumnElement[Any]]:
    """A cache table's columns as the rows written are compared with them: an enum column as the string stored (an
    enum member equals its value, so a row compares the same), which spares converting each value read, some
    hundred of them in an episode's outcome rows."""
    return [type_coerce(c, String).label(c.name) if isinstance(c.type, Enum) else c for c in table.c]


def _key_of(table: Table, *names: str) -> Callable[[Any], Any]:
    """A stored row's key, taken by position (a plain row's attributes by name cost far more)."""
    return itemgetter(*(table.c.keys().index(name) for name in names))


_o, _w, _m = EventOutcome.__table__, EnrollmentWeek.__table__, EnrollmentSummary.__table__
# Built once: a desk entry reads them before it locks.
_OUTCOMES = select(*_as_stored(_o)).where(_o.c.enrollment_id == bindparam("enrollment_id"))
_WEEKS = select(*_as_stored(_w)).where(_w.c.enrollment_id == bindparam("enrollment_id"))
_SUMMARY = select(*_as_stored(_m)).where(_m.c.enrollment_id == bindparam("enrollment_id"))
_MANY_IDS = bindparam("ids", expanding=True)
_MANY_OUTCOMES = select(*_as_stored(_o)).where(_o.c.enrollment_id.in_(_MANY_IDS))
_MANY_WEEKS = select(*_as_stored(_w)).where(_w.c.enrollment_id.in_(_MANY_IDS))
_MANY_SUMMARIES = select(*_as_stored(_m)).where(_m.c.enrollment_id.in_(_MANY_IDS))
# The keys refresh_outcomes matches the new rows by (an event type read as its string, as the rows' keys give it).
_OUTCOME_KEY = _key_of(_o, "target_key", "event_type", "event_id")
_WEEK_KEY = _key_of(_w, "week_on")
_SUMMARY_KEY = _key_of(_m, "enrollment_id")


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
    # Keys taken by itemgetter (no call per row); an event type matches its stored string as a string or a member.
    _apply(EventOutcome, rows, dict(read.outcomes), itemgetter("target_key", "event_type", "event_id"),
           lambda old: {"id": old.id},
           lambda gone: delete(EventOutcome).where(EventOutcome.id.in_([g.id for g in gone])))
    _apply(EnrollmentWeek, week_rows(enrollment.id, enrollment.program_id, rows, read.scheduled), dict(read.weeks),
           itemgetter("week_on"), lambda old: {},
           lambda gone: delete(EnrollmentWeek).where(EnrollmentWeek.enrollment_id == enrollment.id,
                                                     EnrollmentWeek.week_on.in_([g.week_on for g in gone])))
    _apply(EnrollmentSummary, [summary], dict(read.summary), itemgetter("enrollment_id"), lambda old: {},
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
    """Test visit dates and the number of visit days due before `before`, and the dates excused (by an excuse of
    the enrolment, or a clinic closure on a test date)."""
    db.session.flush()  # as the ORM's autoflush did before this statement on the tables' columns (below)
    scheduled: list[date] = []
    due: set[date] = set()
    excuses: set[date] = set()
    closures: set[date] = set()
    for part, on, kind in db.session.execute(_VISITS_AND_EXCUSES, {"enrollment_id": enrollment_id,
                                                                    "before": before}).all():
        if part == _VISIT:
            due.add(on)
            if kind == _TEST:
                scheduled.append(on)
        elif part == _EXCUSE:
            excuses.add(on)
        else:
            closures.add(on)
    if not scheduled:
        return scheduled, set(), len(due)
    return scheduled, excuses | (closures & set(scheduled)), len(due)


# Built once, on the tables' columns (executing skips the ORM's compile and result layers, and its autoflush, which
# _visits_of does itself): a desk entry reads it before it locks. The visits, the excuses and the closures come in
# one statement, each row saying which it is; the closures from the first test visit due (none without one).
_v, _x, _c = ScheduledVisit.__table__.c, Excuse.__table__.c, ClinicClosure.__table__.c
_VISIT, _EXCUSE, _CLOSURE = 0, 1, 2
_TEST = VisitKind.TEST.value  # the kind as read (a string): comparing two strings skips the enum's lookup
_FIRST_TEST = select(func.min(_v.due_on)).where(
    _v.enrollment_id == bindparam("enrollment_id"), _v.kind == VisitKind.TEST,
    _v.due_on < bindparam("before")).scalar_subquery()
_VISITS_AND_EXCUSES = union_all(
    select(literal(_VISIT).label("part"), _v.due_on.label("on"), type_coerce(_v.kind, String).label("kind")).where(
        _v.enrollment_id == bindparam("enrollment_id"), _v.due_on < bindparam("before")),
    select(literal(_EXCUSE), _x.excused_on, null()).where(
        _x.enrollment_id == bindparam("enrollment_id"), _x.revoked_at.is_(None)),
    select(literal(_CLOSURE), _c.closed_on, null()).where(
        _c.closed_on >= _FIRST_TEST, _c.closed_on < bindparam("before")))


def _visits_of_many(enrollment_ids: Sequence[int], before: date) -> dict[int, tuple[list[date], set[date], int]]:
    """_visits_of of many enrolments, in three statements at most."""
    db.session.flush()
    due: dict[int, list[tuple[date, str]]] = {eid: [] for eid in enrollment_ids}
    for eid, on, kind in db.session.execute(_MANY_VISITS, {"ids": list(due), "before": before}):
        due[eid].append((on, kind))
    scheduled = {eid: [on for on, kind in visits if kind == VisitKind.TEST] for eid, visits in due.items()}
    testing = [eid for eid in enrollment_ids if scheduled[eid]]
    excuses: dict[int, set[date]] = {eid: set() for eid in testing}
    closed: set[date] = set()
    if testing:
        for eid, on in db.session.execute(_MANY_EXCUSES, {"ids": testing}):
            excuses[eid].add(on)
        first = min(min(scheduled[eid]) for eid in testing)
        closed = set(db.session.scalars(_CLOSURES, {"first": first, "before": before}))
    found = {}
    for eid, visits in due.items():
        tests = set(scheduled[eid])
        excused = excuses[eid] | {on for on in closed if on in tests} if tests else set()
        found[eid] = (scheduled[eid], excused, len({on for on, _ in visits}))
    return found


_MANY_VISITS = select(_v.enrollment_id, _v.due_on, _v.kind).where(_v.enrollment_id.in_(_MANY_IDS),
                                                                  _v.due_on < bindparam("before"))
_MANY_EXCUSES = select(_x.enrollment_id, _x.excused_on).where(_x.enrollment_id.in_(_MANY_IDS),
                                                              _x.revoked_at.is_(None))
_CLOSURES = select(_c.closed_on).where(_c.closed_on >= bindparam("first"), _c.closed_on < bindparam("before"))


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

def _apply(model: Any, rows: Sequence[dict[str, Any]], stored: dict[Hashable, Any],
           key: Callable[[dict[str, Any]], Hashable], identity: Callable[[Any], dict[str, Any]],
           remove: Callable[[list[Any]], Any]) -> None:
    """Insert the new keys, update the changed rows by primary key, delete the keys no longer there.

    A stored row differs when any of the new row's columns does (compared as one tuple: stored enums are read as
    their strings, which equal the new rows' members; booleans, dates and aware times compare as they are)."""
    inserts, updates = [], []
    stored_values = _values_of(list(rows[0]) if rows else [], stored)
    for row in rows:
        old = stored.pop(key(row), None)
        if old is None:
            inserts.append(row)
        elif stored_values(old) != tuple(row.values()):
            updates.append({**row, **identity(old)})
    if stored:
        db.session.execute(remove(list(stored.values())))
    if updates:
        statement, keys = _writes_of(model)[1]
        db.session.execute(statement, [{**{n: v for n, v in row.items() if n not in keys},
                                        **{f"key_{n}": row[n] for n in keys}} for row in updates])
    if inserts:
        db.session.execute(_writes_of(model)[0], inserts)


def _values_of(names: Sequence[str], stored: Mapping[Hashable, Any]) -> Callable[[Any], tuple[Any, ...]]:
    """The stored row's values of `names`, as a tuple in that order: taken by position (the stored rows are plain
    rows of one statement, so one row's fields say where each name is), since a row's attribute lookup by name costs
    some forty times more and an episode's outcome rows have some twenty columns each."""
    first = next(iter(stored.values()), None)
    if first is None or not names:
        return lambda old: ()
    fields = first._fields  # a property that builds the tuple anew
    positions = [fields.index(name) for name in names]
    if len(positions) == 1:
        return lambda old: (old[positions[0]],)
    return itemgetter(*positions)


_WRITES: dict[Any, tuple[Any, tuple[Any, frozenset[str]]]] = {}


def _writes_of(model: Any) -> tuple[Any, tuple[Any, frozenset[str]]]:
    """The INSERT and the UPDATE by primary key of a cache table, built once per process, on the table rather than
    the ORM entity: executing them skips the ORM's bulk machinery (no object of these tables is loaded in the
    session, so there is nothing to synchronise). The UPDATE's SET clause is the columns its rows name; its WHERE
    binds the primary key as `key_<column>`, so a key column is never set."""
    if model not in _WRITES:
        table = model.__table__
        keys = frozenset(c.name for c in table.primary_key.columns)
        by_key = update(table).where(*(table.c[n] == bindparam(f"key_{n}") for n in sorted(keys)))
        _WRITES[model] = (insert(table), (by_key, keys))
    return _WRITES[model]
