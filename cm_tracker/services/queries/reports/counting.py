"""Grouped SQL that counts, per enrolment, what the outcome measures need: one query per figure, none per patient.

Runs of successes (LDA) are gaps-and-islands: a running count of failures numbers the runs, and the longest run is
the largest group of successes sharing a number. Window functions work on SQLite 3.25+ and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal, select, true, union_all

from cm_tracker.engine.outcomes import Outcome
from cm_tracker.extensions import db
from cm_tracker.models import (
    EntryKind,
    EventOutcome,
    LedgerEntry,
    ScheduledVisit,
    VisitKind,
)
from cm_tracker.services.core.clinic import start_of_day
from cm_tracker.services.queries.reports.sql import Scope, excused_unrecorded, monday
from cm_tracker.services.queries.reports.summaries import monday_of

SUCCESS, FAILURE, NEUTRAL = Outcome.SUCCESS, Outcome.FAILURE, Outcome.NEUTRAL


def _flag(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _in_period(scope: Scope) -> Any:
    return EventOutcome.occurred_on >= scope.start if scope.start is not None else true()


def event_counts(scope: Scope) -> dict[int, dict[str, Any]]:
    """Per enrolment: primary-target outcomes and attended days in the period, the last attended day up to its end,
    engine money earned in the period and engine points up to its end."""
    period, primary = _in_period(scope), EventOutcome.is_primary.is_(True)
    query = select(
        EventOutcome.enrollment_id,
        _flag(and_(period, primary, EventOutcome.outcome == SUCCESS)),
        _flag(and_(period, primary, EventOutcome.outcome == FAILURE)),
        _flag(and_(period, primary, EventOutcome.is_submitted.is_(True))),
        _flag(and_(period, primary, EventOutcome.is_excused.is_(True))),
        func.count(func.distinct(case((and_(period, EventOutcome.is_attended.is_(True)), EventOutcome.occurred_on)))),
        func.count(func.distinct(case((and_(period, EventOutcome.is_excused.is_(True)), EventOutcome.occurred_on)))),
        func.max(case((EventOutcome.is_attended.is_(True), EventOutcome.occurred_on))),
        func.coalesce(func.sum(case((period, EventOutcome.value_cents), else_=0)), 0),
        func.coalesce(func.sum(EventOutcome.points), 0),
    ).where(*_scope_to_end(scope)).group_by(EventOutcome.enrollment_id)
    names = ("successes", "failures", "submitted", "excused_tests", "attended_days", "excused_days",
             "last_attended_on", "engine_cents", "engine_points")
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in db.session.execute(query)}


def _scope_to_end(scope: Scope) -> list[Any]:
    """The scope's event filters without the period start (for figures "up to the end of the period")."""
    return Scope(scope.program_id, scope.counselor_id, None, scope.end, scope.due_before).events()


def visit_counts(scope: Scope) -> dict[int, tuple[int, int]]:
    """Per enrolment: scheduled test visits and scheduled visit days whose day is over, within the period."""
    query = (select(ScheduledVisit.enrollment_id, _flag(ScheduledVisit.kind == VisitKind.TEST),
                    func.count(func.distinct(ScheduledVisit.due_on)))
             .where(*scope.visits()).group_by(ScheduledVisit.enrollment_id))
    return {eid: (int(tests), int(days)) for eid, tests, days in db.session.execute(query)}


def excused_counts(scope: Scope) -> dict[int, int]:
    """Per enrolment: test visits excused without a record (an excuse or a closure)."""
    found = excused_unrecorded(scope)
    query = select(found.c.enrollment_id, func.count()).group_by(found.c.enrollment_id)
    return {eid: int(n) for eid, n in db.session.execute(query)}


def ledger_counts(scope: Scope) -> dict[int, dict[str, int]]:
    """Per enrolment, from the ledger's non-engine entries: manual value and points, redeemed points and prize
    values in the period, and manual and redeemed points up to its end (engine entries are in EventOutcome)."""
    moment = func.coalesce(LedgerEntry.occurred_at, LedgerEntry.created_at)
    until = moment < start_of_day(scope.end + timedelta(days=1))
    period = and_(until, moment >= start_of_day(scope.start)) if scope.start is not None else until
    kind = LedgerEntry.kind

    def total(column: Any, condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, column), else_=0)), 0)

    query = select(
        LedgerEntry.enrollment_id,
        total(LedgerEntry.value_cents, and_(period, kind == EntryKind.MANUAL)),
        total(LedgerEntry.points, and_(period, kind == EntryKind.REDEMPTION)),
        total(LedgerEntry.value_cents, and_(period, kind == EntryKind.DRAW)),
        total(LedgerEntry.points, and_(until, kind.in_((EntryKind.MANUAL, EntryKind.REDEMPTION)))),
    ).where(kind.in_((EntryKind.MANUAL, EntryKind.REDEMPTION, EntryKind.DRAW)),
            LedgerEntry.enrollment_id.in_(scope.enrollments())).group_by(LedgerEntry.enrollment_id)
    names = ("manual_cents", "redeemed_points", "prize_cents", "other_points")
    return {row[0]: dict(zip(names, (int(v) for v in row[1:]), strict=True)) for row in db.session.execute(query)}


def lda_samples(scope: Scope) -> dict[int, int]:
    """Longest run of consecutive successes on the primary target; neutral events are left out, so they neither
    break nor extend a run."""
    failures_so_far = func.sum(case((EventOutcome.outcome == FAILURE, 1), else_=0)).over(
        partition_by=EventOutcome.enrollment_id,
        order_by=(EventOutcome.occurred_at, EventOutcome.event_type, EventOutcome.event_id),
        rows=(None, 0))
    numbered = (select(EventOutcome.enrollment_id, EventOutcome.outcome, failures_so_far.label("run_no"))
                .where(*scope.events(EventOutcome.is_primary.is_(True), EventOutcome.outcome != NEUTRAL))
                .subquery())
    runs = (select(numbered.c.enrollment_id, func.count().label("length"))
            .where(numbered.c.outcome == SUCCESS).group_by(numbered.c.enrollment_id, numbered.c.run_no).subquery())
    query = select(runs.c.enrollment_id, func.max(runs.c.length)).group_by(runs.c.enrollment_id)
    return {eid: int(n) for eid, n in db.session.execute(query)}


def _weeks(scope: Scope) -> Any:
    """Per enrolment and ISO week: successes, failures, excused and scheduled tests (excused ones included)."""
    zero = literal(0)
    events = (select(EventOutcome.enrollment_id.label("eid"), EventOutcome.week_on.label("week"),
                     case((EventOutcome.outcome == SUCCESS, 1), else_=0).label("s"),
                     case((EventOutcome.outcome == FAILURE, 1), else_=0).label("f"),
                     case((EventOutcome.is_excused.is_(True), 1), else_=0).label("x"), zero.label("n"))
              .where(*scope.events(EventOutcome.is_primary.is_(True))))
    visits = (select(ScheduledVisit.enrollment_id, monday(ScheduledVisit.due_on), zero, zero, zero, literal(1))
              .where(*scope.visits(VisitKind.TEST)))
    excused = excused_unrecorded(scope)
    unrecorded = select(excused.c.enrollment_id, monday(excused.c.due_on), zero, zero, literal(1), zero)
    parts = union_all(events, visits, unrecorded).subquery()
    return (select(parts.c.eid, parts.c.week, func.sum(parts.c.s).label("s"), func.sum(parts.c.f).label("f"),
                   func.sum(parts.c.x).label("x"), func.sum(parts.c.n).label("n"))
            .group_by(parts.c.eid, parts.c.week).subquery())


def lda_weeks(scope: Scope) -> dict[int, int]:
    """Longest run of consecutive abstinent calendar weeks (see queries.reports.measures for the week rule)."""
    weeks = _weeks(scope)
    clean = and_(weeks.c.f == 0, weeks.c.s > 0, weeks.c.s + weeks.c.x >= weeks.c.n)
    counted = (weeks.c.f > 0) | (weeks.c.s > 0) | (weeks.c.x < weeks.c.n)
    broken_so_far = func.sum(case((clean, 0), else_=1)).over(partition_by=weeks.c.eid, order_by=weeks.c.week,
                                                             rows=(None, 0))
    numbered = (select(weeks.c.eid, cast(case((clean, 1), else_=0), Integer).label("clean"),
                       broken_so_far.label("run_no")).where(counted).subquery())
    runs = (select(numbered.c.eid, func.count().label("length")).where(numbered.c.clean == 1)
            .group_by(numbered.c.eid, numbered.c.run_no).subquery())
    query = select(runs.c.eid, func.max(runs.c.length)).group_by(runs.c.eid)
    return {eid: int(n) for eid, n in db.session.execute(query)}


def weekly_negative(scope: Scope) -> list[tuple[date, int, int, int]]:
    """Per calendar week across the scope: successes, specimens with a final result, and the intent-to-treat
    denominator (the week's scheduled tests less the excused, never below its successes and failures)."""
    primary = EventOutcome.is_primary.is_(True)
    events = (select(EventOutcome.week_on, _flag(EventOutcome.outcome == SUCCESS),
                     _flag(EventOutcome.is_submitted.is_(True)), _flag(EventOutcome.outcome == FAILURE),
                     _flag(EventOutcome.is_excused.is_(True)))
              .where(*scope.events(primary)).group_by(EventOutcome.week_on))
    # Grouped by day in SQL (an index range, no date arithmetic per row), then folded into weeks here.
    visits = (select(ScheduledVisit.due_on, func.count()).where(*scope.visits(VisitKind.TEST))
              .group_by(ScheduledVisit.due_on))
    scheduled: dict[date, int] = {}
    for day, n in db.session.execute(visits):
        week = monday_of(_as_date(day))
        scheduled[week] = scheduled.get(week, 0) + int(n)
    found = []
    for w, s, sub, f, x in db.session.execute(events):
        day = _as_date(w)
        found.append((day, int(s), int(sub), max(scheduled.pop(day, 0) - int(x), int(s) + int(f))))
    found += [(day, 0, 0, n) for day, n in scheduled.items()]
    return sorted(found)


def _as_date(value: Any) -> date:
    """SQLite hands back computed dates as text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
