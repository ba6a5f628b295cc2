"""The counselor's caseload: one row per patient, built from a fixed handful of grouped queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import noload, selectinload

from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    Enrollment,
    EnrollmentStatus,
    Patient,
    Program,
    ProgramTarget,
    ScheduledVisit,
    Specimen,
    User,
)
from cm_tracker.services.core.balances import Balance, balances_for
from cm_tracker.services.core.caseload import caseload_filter
from cm_tracker.services.core.enrollments import current_enrollment


@dataclass(frozen=True, slots=True)
class CaseloadRow:
    patient: Patient
    enrollment: Enrollment | None
    balance: Balance
    last_event_at: datetime | None
    next_visit_on: date | None



def caseload_patients(user: User) -> list[Patient]:
    """The patients on the user's caseload (core.caseload): a counselor's own; every patient for admins."""
    # The programmes' targets and schedule versions too: the streaks name each target and leave out the ones paid a
    # fixed reward, which their schedules say (one query each, whatever the number of targets).
    query = (select(Patient).where(caseload_filter(user))
             .options(selectinload(Patient.enrollments).selectinload(Enrollment.program)
                      .selectinload(Program.targets).selectinload(ProgramTarget.schedule_versions)))
    return list(db.session.scalars(query.order_by(Patient.display_name, Patient.id)))


def caseload_people(user: User) -> list[Patient]:
    """The patients on the user's caseload without their enrollments: for readers that take each patient's current
    enrollment from core.balances.standings, which loads it with the balance (the caseload page)."""
    query = select(Patient).where(caseload_filter(user)).options(noload(Patient.enrollments))
    return list(db.session.scalars(query.order_by(Patient.display_name, Patient.id)))


def load_targets(programs: Iterable[Program]) -> None:
    """Load the targets and schedule versions of these (already loaded) programmes: one query each for all of
    them, whatever the number of enrollments that share a programme."""
    ids = sorted({p.id for p in programs})
    if ids:
        db.session.scalars(_targets_query(), {"ids": ids}).all()


@cache
def _targets_query() -> Select[Any]:
    return (select(Program).where(Program.id.in_(bindparam("ids", expanding=True)))
            .options(selectinload(Program.targets).selectinload(ProgramTarget.schedule_versions)))


def caseload_rows(user: User, today: date) -> list[CaseloadRow]:
    patients = caseload_patients(user)
    ids = [p.id for p in patients]
    balances = balances_for(ids)
    last_events = last_event_times(ids)
    next_visits = next_visit_dates(ids, today)
    return [
        CaseloadRow(p, current_enrollment(p), balances.get(p.id, Balance()), last_events.get(p.id),
                    next_visits.get(p.id))
        for p in patients
    ]


def last_event_times(patient_ids: Iterable[int]) -> dict[int, datetime]:
    """When each patient's latest specimen or attendance happened (one grouped query per kind of event)."""
    ids = list(patient_ids)
    latest: dict[int, datetime] = {}
    if not ids:
        return latest
    for query in _last_event_queries():
        for pid, moment in db.session.execute(query, {"ids": ids}):
            if moment is not None and (pid not in latest or moment > latest[pid]):
                latest[pid] = moment
    return latest


# Built once per process, the ids bound at execution (as core.balances does): building a statement over a
# caseload's ids, and its cache key, cost more than running it.
@cache
def _last_event_queries() -> tuple[Select[Any], ...]:
    return tuple(select(owner, func.max(column)).where(owner.in_(bindparam("ids", expanding=True))).group_by(owner)
                 for column, owner in ((Specimen.collected_at, Specimen.patient_id),
                                       (AttendanceRecord.occurred_at, AttendanceRecord.patient_id)))


def next_visit_dates(patient_ids: Iterable[int], today: date) -> dict[int, date]:
    ids = list(patient_ids)
    if not ids:
        return {}
    return {key: value for key, value in db.session.execute(_next_visit_query(), {"ids": ids, "today": today})}


@cache
def _next_visit_query() -> Select[Any]:
    return (select(Enrollment.patient_id, func.min(ScheduledVisit.due_on))
            .join(Enrollment, ScheduledVisit.enrollment_id == Enrollment.id)
            .where(Enrollment.patient_id.in_(bindparam("ids", expanding=True)),
                   Enrollment.status == EnrollmentStatus.ACTIVE, ScheduledVisit.due_on >= bindparam("today"))
            .group_by(Enrollment.patient_id))
