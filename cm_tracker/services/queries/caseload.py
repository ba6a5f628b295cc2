"""The counselor's caseload: one row per patient, built from a fixed handful of statements whatever its size."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, Subquery, bindparam, case, exists, func, literal, null, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    AttendanceStatus,
    ClinicClosure,
    Enrollment,
    EnrollmentStatus,
    Excuse,
    Patient,
    Program,
    ProgramTarget,
    ScheduledVisit,
    Specimen,
    SpecimenStatus,
    User,
)
from cm_tracker.services.core.balances import Balance
from cm_tracker.services.core.caseload import caseload_filter
from cm_tracker.services.core.clinic import start_of_day
from cm_tracker.services.core.id_lists import InIds
from cm_tracker.services.core.visit_links import is_open


class CaseloadPatient(NamedTuple):
    """What the caseload page shows of a patient, read as plain columns rather than an ORM instance: the page lists
    the whole caseload, and loading (and, at the request's commit, expiring) 150 instances costs more than the
    statement that reads them."""

    id: int
    display_name: str
    record_number: str
    counselor_id: int | None  # permissions.can_record_events reads it, as it reads a Patient's


@dataclass(frozen=True, slots=True)
class CaseloadRow:
    patient: CaseloadPatient
    enrollment: Enrollment | None
    balance: Balance
    last_event_at: datetime | None
    next_visit_on: date | None


@dataclass(frozen=True, slots=True)
class Person:
    """A patient on the caseload and what the caseload page says of them beyond their enrollment and balance."""

    patient: CaseloadPatient
    last_event_at: datetime | None  # the latest specimen or attendance
    next_visit_on: date | None
    missed_yesterday: str | None  # "a test", "a session", "open" (unrecorded) or None: see _missed_yesterday


def caseload_patients(user: User) -> list[Patient]:
    """The patients on the user's caseload (core.caseload): a counselor's own; every patient for admins."""
    # The programmes' targets and schedule versions too: the streaks name each target and leave out the ones paid a
    # fixed reward, which their schedules say (one query each, whatever the number of targets).
    query = (select(Patient).where(caseload_filter(user))
             .options(selectinload(Patient.enrollments).selectinload(Enrollment.program)
                      .selectinload(Program.targets).selectinload(ProgramTarget.schedule_versions)))
    return list(db.session.scalars(query.order_by(Patient.display_name, Patient.id)))


def caseload_people(user: User, today: date) -> list[Person]:
    """The patients on the user's caseload (core.caseload), by name, each with the caseload page's facts about them,
    in one statement: the facts are correlated subqueries of each patient's row (an index seek each) and the next
    visits a grouped subquery joined to it, so no list of the caseload's ids is bound again per fact. Their
    enrollments are not read: the page takes each patient's current enrollment from core.balances.standings, which
    loads it with the balance."""
    on_caseload = caseload_filter(user)
    upcoming = _next_visits(on_caseload)
    query = (select(*_PATIENT_COLUMNS, *_person_facts(), upcoming.c.next_on)
             .outerjoin(upcoming, upcoming.c.patient_id == Patient.id)
             .where(on_caseload).order_by(Patient.display_name, Patient.id))
    yesterday = today - timedelta(days=1)
    bound = {"today": today, "day": yesterday, "begin": start_of_day(yesterday), "end": start_of_day(today)}
    return [Person(CaseloadPatient(pid, name, record, counselor), _latest(specimen_at, attended_at), next_on, missed)
            for pid, name, record, counselor, specimen_at, attended_at, missed, next_on
            in db.session.execute(query, bound)]


def _next_visits(on_caseload: ColumnElement[bool]) -> Subquery:
    """Per patient on the caseload, the first visit from `today` on of an active enrollment: grouped once for the
    caseload rather than a subquery per patient, whose enrollments PostgreSQL found by scanning the table each time
    (a small clinic's enrollments fit in a page or two): 2 to 3 ms less of a 150-patient page there, about 1 ms more
    on SQLite, which materializes the grouped rows and indexes them for the join."""
    return (select(Enrollment.patient_id, func.min(ScheduledVisit.due_on).label("next_on"))
            .join(ScheduledVisit, ScheduledVisit.enrollment_id == Enrollment.id)
            .where(Enrollment.patient_id.in_(select(Patient.id).where(on_caseload)),
                   Enrollment.status == EnrollmentStatus.ACTIVE, ScheduledVisit.due_on >= bindparam("today"))
            .group_by(Enrollment.patient_id).subquery("next_visits"))


_PATIENT_COLUMNS = (Patient.id, Patient.display_name, Patient.record_number, Patient.counselor_id)  # CaseloadPatient's


def _latest(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


# Built once per process, the day bound at execution: building a statement and its cache key costs about as much
# as running it. Each is correlated to the patients' row of the statement they are selected in.
@cache
def _person_facts() -> tuple[ColumnElement[Any], ...]:
    """The latest specimen and attendance (`Person.last_event_at` is the later) and what became of yesterday's
    visits (`Person.missed_yesterday`); the next visit is joined beside them (_next_visits)."""
    latest = tuple(select(func.max(column)).where(owner == Patient.id).correlate(Patient).scalar_subquery()
                   for column, owner in ((Specimen.collected_at, Specimen.patient_id),
                                         (AttendanceRecord.occurred_at, AttendanceRecord.patient_id)))
    return (*latest, _missed_yesterday())


def _missed_yesterday() -> ColumnElement[str | None]:
    """Yesterday (`day`, from `begin` to `end`): a missed test, else an unexcused session ("a test", "a session":
    recorded so), else a visit of an active enrollment still unrecorded and not excused ("open"), else NULL; an
    excused day or a clinic closure raises nothing. The first that holds wins."""
    day, begin, end = bindparam("day"), bindparam("begin"), bindparam("end")
    test = exists().where(Specimen.patient_id == Patient.id, Specimen.collected_at >= begin,
                          Specimen.collected_at < end, Specimen.status == SpecimenStatus.MISSED)
    session = exists().where(AttendanceRecord.patient_id == Patient.id, AttendanceRecord.occurred_at >= begin,
                             AttendanceRecord.occurred_at < end, AttendanceRecord.status == AttendanceStatus.UNEXCUSED)
    excused = exists().where(Excuse.enrollment_id == Enrollment.id, Excuse.excused_on == day,
                             Excuse.revoked_at.is_(None))
    closed = exists().where(ClinicClosure.closed_on == day)
    # Enrollment by enrollment, then its visit that day: joined the other way round, SQLite walks every visit of
    # the day once per patient.
    open_visit = exists().where(ScheduledVisit.enrollment_id == Enrollment.id, ScheduledVisit.due_on == day,
                                is_open(ScheduledVisit.id))
    unrecorded = exists().where(Enrollment.patient_id == Patient.id, Enrollment.status == EnrollmentStatus.ACTIVE,
                                Enrollment.start_on <= day, or_(Enrollment.end_on.is_(None), Enrollment.end_on >= day),
                                open_visit, ~excused, ~closed)
    return case((test.correlate(Patient), literal("a test")), (session.correlate(Patient), literal("a session")),
                (unrecorded.correlate(Patient), literal("open")), else_=null())


def load_targets(programs: Iterable[Program]) -> None:
    """Load the targets and schedule versions of these (already loaded) programmes in one statement for all of
    them, whatever the number of enrollments that share a programme: the targets with their versions joined (a
    programme has a handful of each), set as each programme's loaded `targets`."""
    loaded = {p.id: p for p in programs}
    if not loaded:
        return
    found: dict[int, list[ProgramTarget]] = {pid: [] for pid in loaded}
    for target in db.session.scalars(_targets_query(), {"ids": sorted(loaded)}).unique():
        found[target.program_id].append(target)
    for pid, targets in found.items():
        set_committed_value(loaded[pid], "targets", targets)


@cache
def _targets_query() -> Select[Any]:
    # In Program.targets' order; joinedload orders each target's versions as ScheduleVersion.version.
    return (select(ProgramTarget).where(InIds(ProgramTarget.program_id, "ids"))
            .options(joinedload(ProgramTarget.schedule_versions))
            .order_by(ProgramTarget.program_id, ProgramTarget.position, ProgramTarget.id))
