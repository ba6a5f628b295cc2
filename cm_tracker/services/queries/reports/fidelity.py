"""Fidelity (docs/reports.md): is CM delivered as designed? Engine against manual awards, resets and recoveries applied,
immediacy, visits left unrecorded, prize-cabinet counts and negative balances, for one programme and period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select

from cm_tracker.extensions import db
from cm_tracker.models import (
    ClinicClosure,
    Enrollment,
    EntryKind,
    EventOutcome,
    EventType,
    Excuse,
    LedgerEntry,
    Patient,
    Program,
    Redemption,
    Reward,
    ScheduledVisit,
    StockCount,
    VisitKind,
)
from cm_tracker.money import points_value_cents
from cm_tracker.services.core.clinic import start_of_day
from cm_tracker.services.queries.reports.measures import percent
from cm_tracker.services.queries.reports.sql import Scope, seconds_between

# Delay buckets for immediacy: at the visit, the same day, within a week, later (docs/rules.md 1: immediacy matters).
BUCKETS = ((3600, "Within an hour"), (86400, "Within a day"), (7 * 86400, "Within a week"), (None, "Later"))
COUNT_OVERDUE_DAYS = 30
UNRECORDED_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Split:
    label: str
    count: int
    cents: int
    share: float | None


@dataclass(frozen=True, slots=True)
class Delay:
    label: str
    count: int
    share: float | None


@dataclass(frozen=True, slots=True)
class Unrecorded:
    patient_id: int
    display_name: str
    due_on: date


@dataclass(frozen=True, slots=True)
class CabinetCount:
    reward: str
    tier: str
    last_counted_at: datetime | None
    expected: int | None
    counted: int | None
    status: str


@dataclass(frozen=True, slots=True)
class NegativeBalance:
    patient_id: int
    display_name: str
    points: int
    value_cents: int


@dataclass(frozen=True)
class FidelityReport:
    program: Program
    scope: Scope
    awards: list[Split]
    successes: int
    resets: int
    recoveries: int
    capped: int
    award_delays: list[Delay]
    handover_delays: list[Delay]
    unrecorded_total: int
    unrecorded: list[Unrecorded]
    cabinet: list[CabinetCount]
    negative: list[NegativeBalance]


def _moment_in(scope: Scope, column: Any) -> list[Any]:
    found = [column < start_of_day(scope.end + timedelta(days=1))]
    if scope.start is not None:
        found.append(column >= start_of_day(scope.start))
    return found


def award_split(scope: Scope) -> list[Split]:
    """Engine awards and corrections against manual adjustments, by count of entries and by net value: a
    correction that took points back is negative, as the ledger has it (a sum of magnitudes would make it look
    like more was paid)."""
    kinds = (EntryKind.AWARD, EntryKind.ADJUSTMENT, EntryKind.MANUAL)
    moment = func.coalesce(LedgerEntry.occurred_at, LedgerEntry.created_at)
    query = (select(LedgerEntry.kind, func.count(), func.coalesce(func.sum(LedgerEntry.value_cents), 0))
             .where(LedgerEntry.kind.in_(kinds), LedgerEntry.enrollment_id.in_(scope.enrollments()),
                    (LedgerEntry.points != 0) | (LedgerEntry.draws != 0), *_moment_in(scope, moment))
             .group_by(LedgerEntry.kind))
    found = {kind: (int(n), int(cents)) for kind, n, cents in db.session.execute(query)}
    total = sum(n for n, _ in found.values())
    labels = {EntryKind.AWARD: "Awards computed by the engine", EntryKind.ADJUSTMENT: "Engine corrections",
              EntryKind.MANUAL: "Manual adjustments"}
    return [Split(labels[k], found.get(k, (0, 0))[0], found.get(k, (0, 0))[1], percent(found.get(k, (0, 0))[0], total))
            for k in kinds]


def schedule_counts(scope: Scope) -> tuple[int, int, int, int]:
    """Successes, resets, recoveries and capped awards on every target in the period."""
    def flag(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.session.execute(select(flag(EventOutcome.outcome == "success"), flag(EventOutcome.is_reset.is_(True)),
                                    flag(EventOutcome.is_recovered.is_(True)), flag(EventOutcome.is_capped.is_(True)))
                             .where(*scope.events())).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def _delays(seconds: Any, where: list[Any]) -> list[Delay]:
    columns = []
    low = None
    for limit, _label in BUCKETS:
        condition = seconds < limit if limit is not None else seconds >= low
        if low is not None and limit is not None:
            condition = and_(seconds >= low, condition)
        columns.append(func.coalesce(func.sum(case((condition, 1), else_=0)), 0))
        low = limit
    row = db.session.execute(select(*columns).where(*where)).one()
    total = sum(int(n) for n in row)
    return [Delay(label, int(n), percent(int(n), total)) for (_, label), n in zip(BUCKETS, row, strict=True)]


def award_delays(scope: Scope) -> list[Delay]:
    """From a specimen's collection to its first award entry (a late lab result or late typing shows here)."""
    return _delays(seconds_between(LedgerEntry.occurred_at, LedgerEntry.created_at), [
        LedgerEntry.kind == EntryKind.AWARD, LedgerEntry.event_type == EventType.SPECIMEN,
        LedgerEntry.enrollment_id.in_(scope.enrollments()), *_moment_in(scope, LedgerEntry.occurred_at)])


def handover_delays(scope: Scope) -> list[Delay]:
    """From a redemption request to hand-over."""
    return _delays(seconds_between(Redemption.requested_at, Redemption.fulfilled_at), [
        Redemption.fulfilled_at.is_not(None), Redemption.enrollment_id.in_(scope.enrollments()),
        *_moment_in(scope, Redemption.requested_at)])


def _unrecorded_query(scope: Scope) -> Any:
    recorded = exists().where(EventOutcome.enrollment_id == ScheduledVisit.enrollment_id,
                              EventOutcome.occurred_on == ScheduledVisit.due_on,
                              EventOutcome.event_type == EventType.SPECIMEN)
    excused = exists().where(Excuse.enrollment_id == ScheduledVisit.enrollment_id,
                             Excuse.excused_on == ScheduledVisit.due_on, Excuse.revoked_at.is_(None))
    closed = exists().where(ClinicClosure.closed_on == ScheduledVisit.due_on)
    return (select(Enrollment.patient_id, Patient.display_name, ScheduledVisit.due_on)
            .join(Enrollment, Enrollment.id == ScheduledVisit.enrollment_id)
            .join(Patient, Patient.id == Enrollment.patient_id)
            .where(*scope.visits(VisitKind.TEST), ~recorded, ~excused, ~closed))


def unrecorded_visits(scope: Scope, limit: int | None = UNRECORDED_SHOWN) -> tuple[int, list[Unrecorded]]:
    """Test visits whose day is over with nothing recorded and no excuse: the oldest first."""
    query = _unrecorded_query(scope)
    total = int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = db.session.execute(query.order_by(ScheduledVisit.due_on, Patient.display_name).limit(limit))
    return total, [Unrecorded(pid, name, due) for pid, name, due in rows]


def cabinet_counts(program: Program, today: date) -> list[CabinetCount]:
    """Each stocked item of the programme's catalog and cabinet with its latest count and what that says."""
    latest = (select(StockCount.reward_id, func.max(StockCount.id).label("id"))
              .group_by(StockCount.reward_id).subquery())
    query = (select(Reward.name, Reward.tier, Reward.kind, StockCount.counted_at, StockCount.expected,
                    StockCount.counted)
             .outerjoin(latest, latest.c.reward_id == Reward.id).outerjoin(StockCount, StockCount.id == latest.c.id)
             .where(or_(Reward.program_id == program.id, Reward.program_id.is_(None)), Reward.is_stocked.is_(True),
                    Reward.is_active.is_(True))
             .order_by(Reward.kind, Reward.name))
    found = []
    overdue = start_of_day(today - timedelta(days=COUNT_OVERDUE_DAYS))
    for name, tier, kind, at, expected, counted in db.session.execute(query):
        if at is None:
            status = "Never counted"
        elif expected != counted:
            status = f"Count differs by {counted - expected:+d}"
        elif at < overdue:
            status = f"Not counted in {COUNT_OVERDUE_DAYS} days"
        else:
            status = "Counted, matches"
        found.append(CabinetCount(name, (tier or str(kind)).replace("_", " "), at, expected, counted, status))
    return found


def negative_balances(program: Program) -> list[NegativeBalance]:
    """Patients whose balance went below zero (a correction after a redemption, docs/rules.md 6)."""
    total = func.sum(LedgerEntry.points)
    query = (select(LedgerEntry.patient_id, Patient.display_name, total)
             .join(Patient, Patient.id == LedgerEntry.patient_id)
             .where(LedgerEntry.patient_id.in_(select(Enrollment.patient_id)
                                               .where(Enrollment.program_id == program.id)))
             .group_by(LedgerEntry.patient_id, Patient.display_name).having(total < 0).order_by(total))
    return [NegativeBalance(pid, name, int(points), points_value_cents(int(points), program.point_value_cents))
            for pid, name, points in db.session.execute(query)]


def fidelity_report(program: Program, scope: Scope, today: date) -> FidelityReport:
    successes, resets, recoveries, capped = schedule_counts(scope)
    total, unrecorded = unrecorded_visits(scope)
    return FidelityReport(program, scope, award_split(scope), successes, resets, recoveries, capped,
                          award_delays(scope), handover_delays(scope), total, unrecorded,
                          cabinet_counts(program, today), negative_balances(program))
