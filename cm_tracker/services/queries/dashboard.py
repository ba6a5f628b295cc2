"""The counselor's desk dashboard: who is due today, who is overdue, balances, streaks and what needs attention.

Every figure is one query for the whole caseload (never one per patient), so the page costs the same for five
patients or five hundred. Streaks are the stored state of each target (queries.streaks, core.target_states). Only
today's visits are loaded as rows; overdue visits are counted in the database, since a patient may have dozens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, or_, select
from sqlalchemy.orm.attributes import set_committed_value

from cm_tracker.extensions import db
from cm_tracker.models import (
    ClinicClosure,
    Enrollment,
    EnrollmentStatus,
    Excuse,
    Redemption,
    Reward,
    ScheduledVisit,
    StockMovement,
    User,
    VisitKind,
)
from cm_tracker.money import format_cents
from cm_tracker.services.core.balances import Balance, standings
from cm_tracker.services.core.id_lists import InIds
from cm_tracker.services.core.visit_links import is_open
from cm_tracker.services.queries.caseload import (
    CaseloadPatient,
    CaseloadRow,
    Person,
    caseload_people,
    load_targets,
)
from cm_tracker.services.queries.redemptions import waiting_requests
from cm_tracker.services.queries.streaks import Streak, streaks_for


@dataclass(frozen=True)
class DueVisit:
    visit: ScheduledVisit
    patient: CaseloadPatient
    what: str
    is_excused: bool
    streaks: tuple[Streak, ...] = ()


@dataclass(frozen=True)
class DuePatient:
    """A patient due today with every visit of theirs still open: a programme with a test and a session on one day
    (the prize-draw preset) shows its patient once, not once per visit."""

    patient: CaseloadPatient
    visits: tuple[DueVisit, ...]

    @property
    def streaks(self) -> tuple[Streak, ...]:
        return self.visits[0].streaks  # the current enrolment's, the same on each of its visits


@dataclass(frozen=True)
class Overdue:
    """A patient with past visits nothing fulfils and nothing excuses: how many, and since when."""

    patient: CaseloadPatient
    count: int
    oldest: date


@dataclass(frozen=True)
class Alert:
    kind: str  # missed, unrecorded, negative_balance, cap, stock
    message: str
    patient: CaseloadPatient | None = None


@dataclass(frozen=True)
class Row:
    base: CaseloadRow
    streaks: tuple[Streak, ...]
    overdue: int


@dataclass
class Dashboard:
    today: date
    rows: list[Row] = field(default_factory=list)
    due: list[DueVisit] = field(default_factory=list)
    overdue: list[Overdue] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    requests: dict[int, list[Redemption]] = field(default_factory=dict)  # portal requests waiting, per patient

    @property
    def due_patients(self) -> list[DuePatient]:
        """Today's open visits grouped by patient, by name."""
        grouped: dict[int, list[DueVisit]] = {}
        for due in self.due:
            grouped.setdefault(due.patient.id, []).append(due)
        found = [DuePatient(visits[0].patient, tuple(sorted(visits, key=lambda d: d.visit.kind != VisitKind.TEST)))
                 for visits in grouped.values()]  # the test first: it is what the desk records
        return sorted(found, key=lambda d: (d.patient.display_name, d.patient.id))


def dashboard_for(user: User, today: date) -> Dashboard:
    people = caseload_people(user, today)
    patients = [person.patient for person in people]
    ids = [p.id for p in patients]
    # Balances, the current enrollment (its programme loaded) and its stored target states in one statement.
    standing = standings(ids, today)
    current = {pid: found.enrollment for pid, found in standing.items()}
    active = {pid: e for pid, e in current.items() if e is not None and e.status == EnrollmentStatus.ACTIVE}
    load_targets(e.program for e in active.values())
    balances = {pid: found.balance for pid, found in standing.items()}
    streaks = streaks_for(list(active.values()), today, stored=[r for found in standing.values() for r in found.states])
    visits = _due_today(list(active.values()), today)
    excused = _excused_days([e.id for e in active.values()], {today} if visits else set())
    board = Dashboard(today)
    by_patient = {p.id: p for p in patients}
    labels = {(e.program_id, t.key): t.label for e in active.values() for t in e.program.targets}
    for visit in visits:
        is_excused = (visit.enrollment_id, today) in excused or (None, today) in excused
        board.due.append(DueVisit(visit, by_patient[visit.enrollment.patient_id], _what(visit, labels), is_excused,
                                  streaks.get(visit.enrollment_id, ())))
    overdue = _overdue(list(active.values()), today)
    board.overdue = sorted((Overdue(by_patient[pid], count, oldest) for pid, (count, oldest) in overdue.items()),
                           key=lambda o: (o.oldest, o.patient.display_name, o.patient.id))
    for person in people:
        p, enrollment = person.patient, current[person.patient.id]
        row = CaseloadRow(p, enrollment, balances.get(p.id, Balance()), person.last_event_at, person.next_visit_on)
        board.rows.append(Row(row, streaks.get(enrollment.id, ()) if enrollment else (), overdue.get(p.id, (0,))[0]))
    board.alerts = _alerts(people, active, balances)
    board.requests = waiting_requests(ids)  # one statement for the whole caseload
    return board


def _what(visit: ScheduledVisit, labels: dict[tuple[int, str], str]) -> str:
    if visit.kind == VisitKind.TEST:
        return "Drug test"
    return f"Session: {labels.get((visit.enrollment.program_id, visit.target_key or ''), visit.target_key)}"


# The page's statements are built once per process, the caseload's ids and the day bound at execution (as
# core.balances does): building a statement over 150 ids, and its cache key, cost more than running it.
def _ids(name: str) -> Any:
    return bindparam(name, expanding=True)


def _open() -> list[ColumnElement[bool]]:
    """The conditions of a visit nothing fulfils, within its enrollment's dates (an ended one's are not due), for
    the enrollments bound as `enrollment_ids`."""
    # The ids restrict the enrollment, not the visit: on the visit, PostgreSQL walks ix_scheduled_visits_due_on
    # (due_on first) over every patient's past visits once per enrollment (30 ms for 150 patients); on the
    # enrollment, it seeks each enrollment's visits by the unique (enrollment_id, due_on, ...) index (10 ms).
    return [InIds(Enrollment.id, "enrollment_ids"),
            ScheduledVisit.due_on >= Enrollment.start_on,
            or_(Enrollment.end_on.is_(None), ScheduledVisit.due_on <= Enrollment.end_on), is_open(ScheduledVisit.id)]


@cache
def _due_today_query() -> Select[Any]:
    return (select(ScheduledVisit).join(Enrollment, ScheduledVisit.enrollment_id == Enrollment.id)
            .where(ScheduledVisit.due_on == bindparam("today"), *_open())
            .order_by(ScheduledVisit.due_on, ScheduledVisit.kind, ScheduledVisit.id))


def _due_today(enrollments: list[Enrollment], today: date) -> list[ScheduledVisit]:
    """Today's visits that nothing fulfils yet."""
    if not enrollments:
        return []
    found = list(db.session.scalars(_due_today_query(),
                                    {"today": today, "enrollment_ids": [e.id for e in enrollments]}))
    loaded = {e.id: e for e in enrollments}
    for visit in found:  # the enrollments are in memory already: no query per visit
        set_committed_value(visit, "enrollment", loaded[visit.enrollment_id])
    return found


@cache
def _overdue_query() -> Select[Any]:
    excused = exists().where(Excuse.enrollment_id == ScheduledVisit.enrollment_id,
                             Excuse.excused_on == ScheduledVisit.due_on, Excuse.revoked_at.is_(None))
    closed = exists().where(ClinicClosure.closed_on == ScheduledVisit.due_on)
    return (select(Enrollment.patient_id, func.count(ScheduledVisit.id), func.min(ScheduledVisit.due_on))
            .join(Enrollment, ScheduledVisit.enrollment_id == Enrollment.id)
            .where(ScheduledVisit.due_on < bindparam("today"), *_open(), ~excused, ~closed)
            .group_by(Enrollment.patient_id))


def _overdue(enrollments: list[Enrollment], today: date) -> dict[int, tuple[int, date]]:
    """Per patient: the past visits nothing fulfils and no excuse or clinic closure covers, and the oldest one."""
    if not enrollments:
        return {}
    rows = db.session.execute(_overdue_query(), {"today": today, "enrollment_ids": [e.id for e in enrollments]})
    return {pid: (int(count), oldest) for pid, count, oldest in rows}


@cache
def _excused_queries() -> tuple[Select[Any], Select[Any]]:
    days = _ids("days")
    excuses = select(Excuse.enrollment_id, Excuse.excused_on).where(
        InIds(Excuse.enrollment_id, "enrollment_ids"), Excuse.excused_on.in_(days), Excuse.revoked_at.is_(None))
    return excuses, select(ClinicClosure.closed_on).where(ClinicClosure.closed_on.in_(days))


def _excused_days(enrollment_ids: list[int], days: set[date]) -> set[tuple[int | None, date]]:
    """(enrollment, day) pairs covered by an excuse, and (None, day) for clinic closures."""
    if not days:
        return set()
    excuses, closures = _excused_queries()
    bound = {"enrollment_ids": enrollment_ids, "days": sorted(days)}
    found: set[tuple[int | None, date]] = {(eid, on) for eid, on in db.session.execute(excuses, bound)}
    found |= {(None, on) for on in db.session.scalars(closures, bound)}
    return found


def _alerts(people: list[Person], active: dict[int, Enrollment], balances: dict[int, Balance]) -> list[Alert]:
    patients = [person.patient for person in people]
    by_id = {p.id: p for p in patients}
    alerts = [_yesterday_alert(person.patient, person.missed_yesterday)
              for person in sorted(people, key=lambda person: person.patient.id) if person.missed_yesterday]
    alerts += [Alert("negative_balance", f"{p.display_name} holds {balances[p.id].points:,} points after a "
                     "correction: redemptions wait until later earnings bring the balance back.", p)
               for p in patients if p.id in balances and (balances[p.id].points < 0 or balances[p.id].draws < 0)]
    for pid in active:
        cap = balances[pid].cap
        if cap is not None and cap.is_near:
            alerts.append(Alert("cap", f"{by_id[pid].display_name} has used {format_cents(cap.used_cents)} of the "
                                f"{format_cents(cap.cap_cents)} cap: later awards will be cut.", by_id[pid]))
    alerts += [Alert("stock", f"Low stock: {name} ({on_hand} left; restock at {threshold}).")
               for name, on_hand, threshold in low_stock({e.program_id for e in active.values()})]
    return alerts


def _yesterday_alert(patient: CaseloadPatient, what: str) -> Alert:
    # A visit nobody recorded is only "missed" once the day is closed (usecases.visits.close_day): until then the
    # desk may still record it, excuse it, or close the day.
    if what == "open":
        return Alert("unrecorded", f"{patient.display_name}: a visit yesterday is not recorded yet.", patient)
    return Alert("missed", f"{patient.display_name} missed {what} yesterday.", patient)


def low_stock(program_ids: set[int]) -> list[tuple[str, int, int]]:
    """Stocked, active rewards (of these programmes, or of every programme) at or below their restock threshold."""
    rows = db.session.execute(_low_stock_query(), {"program_ids": sorted(program_ids or {0})})
    return [(name, int(qty), int(threshold)) for name, qty, threshold in rows]


@cache
def _low_stock_query() -> Select[Any]:
    on_hand = func.coalesce(func.sum(StockMovement.quantity), 0)
    return (select(Reward.name, on_hand, Reward.low_stock_threshold)
            .outerjoin(StockMovement, StockMovement.reward_id == Reward.id)
            .where(Reward.is_active.is_(True), Reward.is_stocked.is_(True),
                   or_(Reward.program_id.is_(None), Reward.program_id.in_(_ids("program_ids"))))
            .group_by(Reward.id, Reward.name, Reward.low_stock_threshold)
            .having(on_hand <= Reward.low_stock_threshold)
            .order_by(Reward.name))
