"""Budget (docs/reports.md): earned, redeemed and outstanding liability; cap use per patient and who is near the cap;
spend by month against the programme's budget; and a forecast to the programme's end from the current rate."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, EnrollmentStatus, EntryKind, LedgerEntry, Patient, Program
from cm_tracker.services.core import balances
from cm_tracker.services.core.clinic import start_of_day
from cm_tracker.services.core.enrollments import current_of
from cm_tracker.services.queries.reports.measures import Measures, percent, pool
from cm_tracker.services.queries.reports.outcomes import enrollment_counts
from cm_tracker.services.queries.reports.sql import Scope

# Value that counts as spend: points awarded (engine and manual) and prizes won (docs/rules.md 5 counts both).
SPEND_KINDS = (EntryKind.AWARD, EntryKind.ADJUSTMENT, EntryKind.MANUAL, EntryKind.DRAW)
RATE_WEEKS = 4


@dataclass(frozen=True, slots=True)
class CapUse:
    patient_id: int
    display_name: str
    used_cents: int
    cap_cents: int
    percent: float | None


@dataclass(frozen=True, slots=True)
class MonthSpend:
    month: date
    spent_cents: int
    cumulative_cents: int
    budget_share: float | None


@dataclass(frozen=True, slots=True)
class Forecast:
    rate_weeks: int
    recent_cents: int
    active: int
    weekly_cents_per_enrollment: int
    remaining_enrollment_weeks: int
    projected_more_cents: int
    spent_cents: int
    projected_total_cents: int
    budget_cents: int | None
    projected_share: float | None


@dataclass(frozen=True)
class BudgetReport:
    program: Program
    scope: Scope
    totals: Measures
    cap_uses: list[CapUse]
    near_cap: list[CapUse]
    months: list[MonthSpend]
    forecast: Forecast
    near_cap_percent: int  # the programme's setting, core.balances.is_near_cap


def cap_uses(program: Program, today: date) -> list[CapUse]:
    """What each patient's cap window holds today, most used first: the cap use of the patient's latest enrolment
    in the programme, as their balance shows it (core.balances; an episode cap counts that enrolment only)."""
    episodes: dict[int, list[Enrollment]] = defaultdict(list)
    names: dict[int, str] = {}
    for enrollment, name in db.session.execute(select(Enrollment, Patient.display_name)
                                               .join(Patient, Patient.id == Enrollment.patient_id)
                                               .where(Enrollment.program_id == program.id)):
        episodes[enrollment.patient_id].append(enrollment)
        names[enrollment.patient_id] = name
    latest = {pid: e for pid, found in episodes.items() if (e := current_of(found)) is not None}
    used = balances.cap_used_by_enrollment(latest.values(), today)
    uses = [CapUse(pid, names[pid], used[e.id], program.cap_cents, percent(used[e.id], program.cap_cents))
            for pid, e in latest.items() if e.id in used]
    return sorted(uses, key=lambda u: (-u.used_cents, u.display_name))


def _months(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def monthly_spend(program: Program, today: date) -> list[MonthSpend]:
    """Spend per clinic month, from the programme's first entry to today: one query, one sum per month."""
    moment = func.coalesce(LedgerEntry.occurred_at, LedgerEntry.created_at)
    where = (LedgerEntry.kind.in_(SPEND_KINDS),
             LedgerEntry.enrollment_id.in_(select(Enrollment.id).where(Enrollment.program_id == program.id)))
    first = db.session.scalar(select(func.min(moment)).where(*where))
    if first is None:
        return []
    months = _months(first.date() - timedelta(days=1), today)
    bounds = [start_of_day(m) for m in months] + [start_of_day((months[-1] + timedelta(days=32)).replace(day=1))]
    columns = [func.coalesce(func.sum(case(((moment >= low) & (moment < high), LedgerEntry.value_cents),
                                           else_=0)), 0) for low, high in itertools.pairwise(bounds)]
    row = db.session.execute(select(*columns).where(*where)).one()
    found, total = [], 0
    for month, spent in zip(months, row, strict=True):
        total += int(spent)
        found.append(MonthSpend(month, int(spent), total, percent(total, program.budget_cents or 0)))
    return [m for m in found if m.cumulative_cents or m is found[-1]]


def forecast(program: Program, today: date, spent_cents: int) -> Forecast:
    """The last four weeks' spend per active enrolment and week, times the weeks active enrolments have left."""
    moment = func.coalesce(LedgerEntry.occurred_at, LedgerEntry.created_at)
    since = start_of_day(today - timedelta(weeks=RATE_WEEKS) + timedelta(days=1))
    recent = int(db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.value_cents), 0))
        .where(LedgerEntry.kind.in_(SPEND_KINDS), moment >= since,
               LedgerEntry.enrollment_id.in_(select(Enrollment.id).where(Enrollment.program_id == program.id)))) or 0)
    starts = db.session.execute(
        select(Enrollment.start_on, func.count())
        .where(Enrollment.program_id == program.id, Enrollment.status == EnrollmentStatus.ACTIVE)
        .group_by(Enrollment.start_on))
    active = remaining = 0
    for start_on, n in starts:
        active += int(n)
        elapsed = max(0, (today - start_on).days) // 7
        remaining += int(n) * max(0, program.weeks - elapsed)
    weekly = recent // (RATE_WEEKS * active) if active else 0
    more = weekly * remaining
    budget = program.budget_cents
    return Forecast(RATE_WEEKS, recent, active, weekly, remaining, more, spent_cents, spent_cents + more, budget,
                    percent(spent_cents + more, budget or 0))


def budget_report(program: Program, scope: Scope, today: date) -> BudgetReport:
    _, counts = enrollment_counts(scope, program.point_value_cents)
    totals = pool(counts.values())
    uses = cap_uses(program, today)
    months = monthly_spend(program, today)
    spent = months[-1].cumulative_cents if months else 0
    near = [u for u in uses if balances.is_near_cap(program, u.used_cents)]
    return BudgetReport(program, scope, totals, uses, near, months, forecast(program, today, spent),
                        program.near_cap_percent)

