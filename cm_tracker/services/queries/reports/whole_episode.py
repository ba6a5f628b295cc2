"""Whole-episode figures of a programme (no period start, ending today) from the report cache: one summary row per
enrolment and a few week rows per enrolment, plus what happened since each summary was computed, read live.

What moves without a re-evaluation is read live, but only where it moved:
- the ledger: redemptions, prizes and manual adjustments post without re-evaluating, so each summary holds the
  non-engine totals through `ledger_through_id`; one index seek per enrolment (its last entry id) finds the few
  enrolments with entries after it, and only those entries are summed;
- scheduled visits: a summary counted the visits due before its `computed_on`; those due since then (up to
  yesterday) are counted from the visit index, per enrolment.
An enrolment never evaluated has no summary: its visits and ledger are read live in full.

The figures are the same as the period queries of queries.reports.counting give for the whole episode
(tests/reports/test_report_cache.py checks it on a scale history).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import String, and_, case, exists, func, select, type_coerce

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, EnrollmentSummary, EntryKind, LedgerEntry, Patient, ScheduledVisit, VisitKind
from cm_tracker.models.reporting import EnrollmentWeek
from cm_tracker.money import points_value_cents
from cm_tracker.services.core.clinic import start_of_day
from cm_tracker.services.queries.reports.measures import Counts
from cm_tracker.services.queries.reports.sql import Scope
from cm_tracker.services.queries.reports.summaries import OTHER_KINDS, monday_of

CHUNK = 500  # ids per IN list


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


def _flag(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class EpisodeRow(NamedTuple):
    """One enrolment of `_rows`: the enrolment and its patient, its summary (None when never evaluated) and the id
    of its last ledger entry. A plain tuple: ten thousand are built per report."""

    id: int
    patient_id: int
    start_on: date
    status: str
    display_name: str
    record_number: str
    summarised: int | None
    successes: int
    failures: int
    submitted: int
    excused_tests: int
    attended_days: int
    excused_days: int
    last_attended_on: date | None
    engine_cents: int
    engine_points: int
    lda_samples: int
    lda_weeks: int
    scheduled_tests: int
    scheduled_days: int
    computed_on: date | None
    ledger_through_id: int
    manual_cents: int
    manual_points: int
    redeemed_points: int
    prize_cents: int
    last_entry: int | None


def _day(value: Any) -> Any:
    """Dates are read without their type's per-value processing: SQLite hands back text, PostgreSQL dates."""
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


def _rows(scope: Scope) -> list[EpisodeRow]:
    """Every enrolment in scope in the report's order (patient name), dates as `_day` reads them, the status as
    its string."""
    s = EnrollmentSummary
    last_entry = (select(func.max(LedgerEntry.id)).where(LedgerEntry.enrollment_id == Enrollment.id)
                  .correlate(Enrollment).scalar_subquery())

    def raw(column: Any) -> Any:
        return type_coerce(column, String)

    query = (select(Enrollment.id, Enrollment.patient_id, raw(Enrollment.start_on), raw(Enrollment.status),
                    Patient.display_name, Patient.record_number, s.enrollment_id, s.successes,
                    s.failures, s.submitted, s.excused_tests, s.attended_days, s.excused_days,
                    raw(s.last_attended_on), s.engine_cents, s.engine_points, s.lda_samples, s.lda_weeks,
                    s.scheduled_tests, s.scheduled_days, raw(s.computed_on), s.ledger_through_id, s.manual_cents,
                    s.manual_points, s.redeemed_points, s.prize_cents, last_entry)
             .join(Patient, Patient.id == Enrollment.patient_id)
             .outerjoin(s, s.enrollment_id == Enrollment.id)
             .where(Enrollment.id.in_(scope.enrollments())).order_by(Patient.display_name, Enrollment.id))
    # Through the session's connection, without the ORM's per-row loading of a session.execute, and a thousand
    # rows at a time: the driver's rows are gone before the garbage collector's sweeps would keep ten thousand of
    # them (the tuples built from them it leaves alone), so a report does not set off a full collection.
    result = db.session.connection().execute(query)
    return [EpisodeRow(r[0], r[1], _day(r[2]), r[3], *r[4:13], _day(r[13]), *r[14:20], _day(r[20]), *r[21:])
            for part in result.partitions(1000) for r in part]


def _visits_since(scope: Scope, by: Any) -> Any:
    """Test visits (and visit days) due since each summary's day and before the scope's `due_before`."""
    s, v = EnrollmentSummary, ScheduledVisit
    return (select(by, _flag(v.kind == VisitKind.TEST), func.count(func.distinct(v.due_on)))
            .join(s, and_(s.enrollment_id == v.enrollment_id, v.due_on >= s.computed_on))
            .where(s.program_id == scope.program_id, s.computed_on < scope.due_before, v.due_on < scope.due_before,
                   v.enrollment_id.in_(scope.enrollments())).group_by(by))


def _live_visits(scope: Scope, rows: list[EpisodeRow]) -> dict[int, tuple[int, int]]:
    """Per enrolment: test visits and visit days its summary has not counted (all of them without a summary)."""
    found: dict[int, tuple[int, int]] = {}
    if any(r.summarised is not None and r.computed_on < scope.due_before for r in rows):
        for eid, tests, days in db.session.execute(_visits_since(scope, ScheduledVisit.enrollment_id)):
            found[eid] = (int(tests), int(days))
    v = ScheduledVisit
    for ids in _chunks([r.id for r in rows if r.summarised is None]):
        query = (select(v.enrollment_id, _flag(v.kind == VisitKind.TEST), func.count(func.distinct(v.due_on)))
                 .where(v.enrollment_id.in_(ids), v.due_on < scope.due_before).group_by(v.enrollment_id))
        found.update({eid: (int(t), int(d)) for eid, t, d in db.session.execute(query)})
    return found


def _live_ledger(scope: Scope, rows: list[EpisodeRow]) -> dict[int, tuple[int, int, int, int]]:
    """Per enrolment whose ledger moved since its summary: (manual cents, manual points, redeemed points, prize
    cents) of the non-engine entries after `ledger_through_id`, up to the end of the scope."""
    stale = [r.id for r in rows if r.last_entry is not None and (r.summarised is None or
                                                                 r.last_entry > r.ledger_through_id)]
    found: dict[int, tuple[int, int, int, int]] = {}
    moment = func.coalesce(LedgerEntry.occurred_at, LedgerEntry.created_at)
    until = moment < start_of_day(scope.end + timedelta(days=1))
    kind = LedgerEntry.kind

    def total(column: Any, of: Any) -> Any:
        return func.coalesce(func.sum(case((kind == of, column), else_=0)), 0)

    s = EnrollmentSummary
    for ids in _chunks(stale):
        query = (select(LedgerEntry.enrollment_id, total(LedgerEntry.value_cents, EntryKind.MANUAL),
                        total(LedgerEntry.points, EntryKind.MANUAL), total(LedgerEntry.points, EntryKind.REDEMPTION),
                        total(LedgerEntry.value_cents, EntryKind.DRAW))
                 .outerjoin(s, s.enrollment_id == LedgerEntry.enrollment_id)
                 .where(LedgerEntry.enrollment_id.in_(ids), LedgerEntry.id > func.coalesce(s.ledger_through_id, 0),
                        kind.in_(OTHER_KINDS), until)
                 .group_by(LedgerEntry.enrollment_id))
        found.update({eid: (int(a), int(b), int(c), int(d)) for eid, a, b, c, d in db.session.execute(query)})
    return found


def enrollment_counts(scope: Scope, point_value_cents: int) -> tuple[list[EpisodeRow], dict[int, Counts]]:
    """queries.reports.outcomes.enrollment_counts for the whole episode: the enrolments in scope (display order)
    and their Counts, in a fixed handful of queries."""
    rows = _rows(scope)
    visits, ledger = _live_visits(scope, rows), _live_ledger(scope, rows)
    found: dict[int, Counts] = {}
    none = (0, 0, 0, 0)
    for r in rows:
        more_tests, more_days = visits.get(r.id, (0, 0))
        m_cents, m_points, r_points, p_cents = ledger.get(r.id, none)
        if r.summarised is None:
            found[r.id] = Counts(
                scheduled_tests=more_tests, scheduled_days=more_days, start_on=r.start_on,
                earned_cents=m_cents + p_cents,
                redeemed_cents=points_value_cents(-r_points, point_value_cents) + p_cents,
                outstanding_cents=points_value_cents(m_points + r_points, point_value_cents))
            continue
        m_cents += r.manual_cents
        p_cents += r.prize_cents
        r_points += r.redeemed_points
        found[r.id] = Counts(
            successes=r.successes, failures=r.failures, submitted=r.submitted,
            scheduled_tests=r.scheduled_tests + more_tests, excused_tests=r.excused_tests,
            scheduled_days=r.scheduled_days + more_days, excused_days=r.excused_days,
            attended_days=r.attended_days, lda_samples=r.lda_samples, lda_weeks=r.lda_weeks,
            last_attended_on=r.last_attended_on, start_on=r.start_on, earned_cents=r.engine_cents + m_cents + p_cents,
            redeemed_cents=points_value_cents(-r_points, point_value_cents) + p_cents,
            outstanding_cents=points_value_cents(r.engine_points + r.manual_points + m_points + r_points,
                                                 point_value_cents),
        )  # fmt: skip
    return rows, found


def weekly_negative(scope: Scope, rows: list[EpisodeRow] | None = None) -> list[tuple[date, int, int, int]]:
    """queries.reports.counting.weekly_negative for the whole episode, from the week rows of the summaries plus
    the test visits due since each summary (and every visit of an enrolment never evaluated). `rows`, the scope's
    enrolments as `enrollment_counts` read them, when the caller has them: they already tell which have no
    summary."""
    w, v, s = EnrollmentWeek, ScheduledVisit, EnrollmentSummary
    weeks = (select(w.week_on, func.sum(w.successes), func.sum(w.submitted), func.sum(w.failures),
                    func.sum(w.excused), func.sum(w.scheduled_tests))
             .where(w.program_id == scope.program_id).group_by(w.week_on))
    if scope.counselor_id is not None:
        weeks = weeks.where(w.enrollment_id.in_(scope.enrollments()))
    since = (select(v.due_on, func.count())
             .join(s, and_(s.enrollment_id == v.enrollment_id, v.due_on >= s.computed_on))
             .where(s.program_id == scope.program_id, s.computed_on < scope.due_before, v.due_on < scope.due_before,
                    v.kind == VisitKind.TEST, v.enrollment_id.in_(scope.enrollments())).group_by(v.due_on))
    # Enrolments never evaluated (no summary: a few at most) by id first, then their visits by the visit index.
    if rows is None:
        never = list(db.session.scalars(select(Enrollment.id).where(
            Enrollment.id.in_(scope.enrollments()), ~exists().where(s.enrollment_id == Enrollment.id))))
    else:
        never = [r.id for r in rows if r.summarised is None]
    found_visits = list(db.session.execute(since))
    for ids in _chunks(never):
        found_visits += db.session.execute(select(v.due_on, func.count()).where(
            v.enrollment_id.in_(ids), v.kind == VisitKind.TEST, v.due_on < scope.due_before).group_by(v.due_on))
    scheduled: dict[date, int] = {}
    for day, n in found_visits:
        week = monday_of(_day(day))
        scheduled[week] = scheduled.get(week, 0) + int(n)
    found = []
    for week, successes, submitted, failures, excused, tests in db.session.execute(weeks):
        n = int(tests) + scheduled.pop(week, 0)
        found.append((week, int(successes), int(submitted), max(n - int(excused), int(successes) + int(failures))))
    found += [(week, 0, 0, n) for week, n in scheduled.items()]
    return sorted(found)
