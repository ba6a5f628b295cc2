"""Outcomes per programme, counselor and period (docs/rules.md 8, docs/reports.md): totals, a per-patient table,
the weekly percent negative and the retention curve."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, Patient, Program, User
from cm_tracker.money import points_value_cents
from cm_tracker.services.core import prizes
from cm_tracker.services.core.clinic import start_of_day
from cm_tracker.services.core.errors import NotFound, ValidationFailed
from cm_tracker.services.queries.reports import counting, whole_episode
from cm_tracker.services.queries.reports.measures import Counts, Measures, measures_of, percent, pool
from cm_tracker.services.queries.reports.sql import Scope


class PatientOutcome(NamedTuple):
    """A row of the per-patient table: a named tuple, as Counts and Measures (one per patient)."""

    patient_id: int
    display_name: str
    record_number: str
    status: str
    start_on: date
    measures: Measures
    retention_weeks: int
    lda_samples: int
    lda_weeks: int


@dataclass(frozen=True, slots=True)
class WeekPoint:
    week_on: date
    successes: int
    submitted: int
    itt_denominator: int
    percent_submitted: float | None
    percent_itt: float | None
    is_complete: bool = True  # False for a week whose last day is not over yet: the chart stops before it


@dataclass(frozen=True, slots=True)
class RetentionPoint:
    week: int
    retained: int
    eligible: int
    percent: float | None


@dataclass(frozen=True)
class OutcomeReport:
    program: Program
    scope: Scope
    totals: Measures
    patients: list[PatientOutcome]
    new_in_period: int
    status_counts: dict[str, int]
    weekly: list[WeekPoint]
    retention: list[RetentionPoint]


def make_scope(program_id: int | None, counselor_id: int | None, start: date | None, end: date | None,
               today: date) -> tuple[Program, Scope]:
    """Check the filters (a programme that exists, a period in order, nothing after today) and build the scope."""
    program = db.session.get(Program, program_id) if program_id else None
    if program is None:
        raise NotFound("There is no such programme.")
    fields: dict[str, str] = {}
    end = min(end or today, today)
    if start is not None and start > end:
        fields["from"] = "The period must start on or before its end (and not after today)."
    if counselor_id is not None and db.session.get(User, counselor_id) is None:
        fields["counselor_id"] = "There is no such counselor."
    if fields:
        raise ValidationFailed("The report could not be made.", fields=fields)
    return program, Scope(program.id, counselor_id, start, end, min(today, end + timedelta(days=1)),
                          whole_episode=start is None and end == today)


def _enrollments(scope: Scope) -> list[Any]:
    query = (select(Enrollment.id, Enrollment.patient_id, Enrollment.start_on, Enrollment.status,
                    Patient.display_name, Patient.record_number)
             .join(Patient, Patient.id == Enrollment.patient_id)
             .where(Enrollment.id.in_(scope.enrollments())).order_by(Patient.display_name, Enrollment.id))
    return list(db.session.execute(query))


def enrollment_counts(scope: Scope, point_value_cents: int) -> tuple[list[Any], dict[int, Counts]]:
    """Every enrolment in scope with its Counts: a fixed number of grouped queries, whatever the caseload. The
    whole episode reads the summaries (queries.reports.whole_episode), a period the outcome rows; both then count
    prizes as the programme owes them (with_prizes)."""
    if scope.whole_episode:
        rows, counts = whole_episode.enrollment_counts(scope, point_value_cents)
    else:
        rows, counts = _period_counts(scope, point_value_cents)
    return rows, with_prizes(scope, counts)


def with_prizes(scope: Scope, counts: dict[int, Counts]) -> dict[int, Counts]:
    """A prize is redeemed when it is handed over, and owed until then (core.prizes): the ledger values a prize
    when it is won, so the prizes won in the period leave `redeemed` for those handed over in it, and the prizes
    still owed at the period's end join `outstanding`, a liability like the points patients hold."""
    start = start_of_day(scope.start) if scope.start is not None else None
    found = prizes.totals_by_enrollment(scope.enrollments(), start, start_of_day(scope.end + timedelta(days=1)))
    for eid, (won, handed, owed) in found.items():
        if (c := counts.get(eid)) is not None:
            counts[eid] = c._replace(redeemed_cents=c.redeemed_cents - won + handed,
                                     outstanding_cents=c.outstanding_cents + owed)
    return counts


def _period_counts(scope: Scope, point_value_cents: int) -> tuple[list[Any], dict[int, Counts]]:
    enrollments = _enrollments(scope)
    ledger = counting.ledger_counts(scope)
    events, excused = counting.event_counts(scope), counting.excused_counts(scope)
    visits = counting.visit_counts(scope)
    samples, weeks = counting.lda_samples(scope), counting.lda_weeks(scope)
    found: dict[int, Counts] = {}
    for row in enrollments:
        ev, lg = events.get(row.id, {}), ledger.get(row.id, {})
        tests, days = visits.get(row.id, (0, 0))
        unrecorded = excused.get(row.id, 0)
        last = ev.get("last_attended_on")
        redeemed = points_value_cents(-lg.get("redeemed_points", 0), point_value_cents) + lg.get("prize_cents", 0)
        held = points_value_cents(int(ev.get("engine_points", 0)) + lg.get("other_points", 0), point_value_cents)
        found[row.id] = Counts(
            successes=int(ev.get("successes", 0)), failures=int(ev.get("failures", 0)),
            submitted=int(ev.get("submitted", 0)), scheduled_tests=tests,
            excused_tests=int(ev.get("excused_tests", 0)) + unrecorded, scheduled_days=days,
            excused_days=int(ev.get("excused_days", 0)) + unrecorded, attended_days=int(ev.get("attended_days", 0)),
            lda_samples=samples.get(row.id, 0), lda_weeks=weeks.get(row.id, 0),
            last_attended_on=counting._as_date(last) if last is not None else None, start_on=row.start_on,
            earned_cents=int(ev.get("engine_cents", 0)) + lg.get("manual_cents", 0) + lg.get("prize_cents", 0),
            redeemed_cents=redeemed, outstanding_cents=held,
        )  # fmt: skip
    return enrollments, found


def outcome_report(program: Program, scope: Scope) -> OutcomeReport:
    enrollments, counts = enrollment_counts(scope, program.point_value_cents)
    # Each patient where their first enrolment comes, with their last; the few with more than one also in `more`
    # (not a list per patient: ten thousand lists would set off a full sweep of the garbage collector).
    last_of: dict[int, Any] = {}
    more: dict[int, list[Any]] = {}
    for row in enrollments:
        if (earlier := last_of.get(row.patient_id)) is not None:
            more.setdefault(row.patient_id, [earlier]).append(row)
        last_of[row.patient_id] = row
    patients = []
    for patient_id, last in last_of.items():
        if (rows := more.get(patient_id)) is None:  # most patients: their one enrolment's measures, without pooling
            c = counts[last.id]
            figures = (measures_of(c), c.retention_weeks, c.lda_samples, c.lda_weeks)
        else:
            mine = [counts[r.id] for r in rows]
            figures = (pool(mine), max(c.retention_weeks for c in mine), max(c.lda_samples for c in mine),
                       max(c.lda_weeks for c in mine))
        patients.append(PatientOutcome(last.patient_id, last.display_name, last.record_number, str(last.status),
                                       last.start_on, *figures))
    status_counts: dict[str, int] = defaultdict(int)
    for row in enrollments:
        status_counts[str(row.status)] += 1
    new = sum(1 for r in enrollments if scope.start is None or r.start_on >= scope.start)
    return OutcomeReport(program, scope, pool(counts.values()), patients, new, dict(status_counts),
                         weekly_points(scope, enrollments), retention_curve(program, scope, enrollments, counts))


def weekly_points(scope: Scope, enrollments: list[Any]) -> list[WeekPoint]:
    """The weekly percent negative; `enrollments` as enrollment_counts returned them for the scope."""
    if scope.whole_episode:
        weeks = whole_episode.weekly_negative(scope, enrollments)
    else:
        weeks = counting.weekly_negative(scope)
    return [WeekPoint(week, s, sub, itt, percent(s, sub), percent(s, itt),
                      is_complete=week + timedelta(days=7) <= scope.due_before) for week, s, sub, itt in weeks]


def retention_curve(program: Program, scope: Scope, enrollments: list[Any],
                    counts: dict[int, Counts]) -> list[RetentionPoint]:
    """Share of enrolments still coming in week k, among those whose week k is over by the end of the period.

    A week still in progress is left out: a patient who has not come yet this week has not stopped coming, and
    counting them would bend the curve down at its last point (today itself is not over either, `due_before`)."""
    weeks = program.weeks
    eligible, retained = [0] * (weeks + 2), [0] * (weeks + 2)
    for row in enrollments:
        possible = min(weeks, (scope.due_before - row.start_on).days // 7)
        if possible < 1:
            continue
        eligible[possible] += 1
        retained[min(counts[row.id].retention_weeks, possible)] += 1
    points, still_eligible, still_retained = [], 0, 0
    for week in range(weeks, 0, -1):  # counts "at least k" by adding from the longest down
        still_eligible += eligible[week]
        still_retained += retained[week]
        points.append(RetentionPoint(week, still_retained, still_eligible, percent(still_retained, still_eligible)))
    return points[::-1]
