"""The few SQL expressions SQLite and PostgreSQL spell differently, and the report's shared filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, Float, and_, exists, or_, select, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from cm_tracker.models import ClinicClosure, Enrollment, EventOutcome, Excuse, Patient, ScheduledVisit, VisitKind
from cm_tracker.services.core.caseload import assigned_to


class monday(FunctionElement[date]):
    """The Monday that starts the ISO week of a date."""

    type = Date()
    inherit_cache = True
    name = "monday"


@compiles(monday, "sqlite")
def _monday_sqlite(element: monday, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(monday, "postgresql")
def _monday_postgresql(element: monday, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(date_trunc('week', {compiler.process(element.clauses, **kw)}) AS DATE)"


class seconds_between(FunctionElement[float]):
    """Seconds from the first timestamp to the second."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    first, second = list(element.clauses)
    return (f"((julianday({compiler.process(second, **kw)}) - julianday({compiler.process(first, **kw)}))"
            " * 86400.0)")


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    first, second = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(second, **kw)} - {compiler.process(first, **kw)}))"


@dataclass(frozen=True)
class Scope:
    """Which enrolments a report covers: a programme, optionally one counselor's caseload, and a period.

    `start` is None for "since the programme began"; `end` is always set (today at the latest). Visits count as
    scheduled only once their day is over (`due_before`), so today's visits are not yet missed.
    """

    program_id: int
    counselor_id: int | None
    start: date | None
    end: date
    due_before: date
    # No start and ending today: the whole episode, which EnrollmentSummary rows already hold.
    whole_episode: bool = False

    def enrollments(self) -> Any:
        """Ids of the enrolments that overlap the period."""
        query = select(Enrollment.id).where(Enrollment.program_id == self.program_id, Enrollment.start_on <= self.end)
        if self.start is not None:
            query = query.where(or_(Enrollment.end_on.is_(None), Enrollment.end_on >= self.start))
        if self.counselor_id is not None:
            query = query.join(Patient, Patient.id == Enrollment.patient_id).where(assigned_to(self.counselor_id))
        return query

    def events(self, *conditions: Any) -> list[Any]:
        """Filters on EventOutcome for the scope (the programme column keeps the index range tight)."""
        found = [EventOutcome.program_id == self.program_id, EventOutcome.occurred_on <= self.end, *conditions]
        if self.start is not None:
            found.append(EventOutcome.occurred_on >= self.start)
        if self.counselor_id is not None:
            found.append(EventOutcome.enrollment_id.in_(self.enrollments()))
        return found

    def visits(self, kind: VisitKind | None = None) -> list[Any]:
        found = [ScheduledVisit.enrollment_id.in_(self.enrollments()), ScheduledVisit.due_on < self.due_before,
                 ScheduledVisit.due_on <= self.end]
        if self.start is not None:
            found.append(ScheduledVisit.due_on >= self.start)
        if kind is not None:
            found.append(ScheduledVisit.kind == kind)
        return found


def excused_unrecorded(scope: Scope) -> Any:
    """Test visits excused by an excuse or a clinic closure for which nothing was recorded: (enrollment_id, due_on).

    Starts from the (few) closures and excuses, so it stays cheap however many visits there are.
    """
    closed = (select(ScheduledVisit.enrollment_id, ScheduledVisit.due_on)
              .join(ClinicClosure, ClinicClosure.closed_on == ScheduledVisit.due_on)
              .where(*scope.visits(VisitKind.TEST)))
    excused = (select(ScheduledVisit.enrollment_id, ScheduledVisit.due_on)
               .join(Excuse, and_(Excuse.enrollment_id == ScheduledVisit.enrollment_id,
                                  Excuse.excused_on == ScheduledVisit.due_on, Excuse.revoked_at.is_(None)))
               .where(*scope.visits(VisitKind.TEST)))
    both = union(closed, excused).subquery()
    recorded = exists().where(EventOutcome.enrollment_id == both.c.enrollment_id,
                              EventOutcome.occurred_on == both.c.due_on, EventOutcome.is_primary.is_(True))
    return select(both.c.enrollment_id, both.c.due_on).where(~recorded).subquery()
