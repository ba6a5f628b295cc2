"""Programme-level figures for managers and the programme table for admins: one grouped query per figure."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from cm_tracker.extensions import db
from cm_tracker.models import (
    CapWindow,
    Enrollment,
    EnrollmentStatus,
    EntryKind,
    LedgerEntry,
    Program,
    ProgramTarget,
    ScheduleVersion,
    Specimen,
)
from cm_tracker.money import points_value_cents
from cm_tracker.services.core.prizes import PrizeTotals, totals_by_program

CAP_WINDOW_WORDS = {
    CapWindow.CALENDAR_YEAR: "per calendar year",
    CapWindow.ROLLING_365: "per rolling 365 days",
    CapWindow.EPISODE: "per enrolment",
}
DAY_NAMES = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"}
EARNING_KINDS = (EntryKind.AWARD, EntryKind.ADJUSTMENT)


@dataclass(frozen=True, slots=True)
class ProgrammeFigures:
    """What a programme has given out and still owes, from the ledger (docs/rules.md 8: earned, redeemed,
    outstanding)."""

    program: Program
    active: int = 0
    completed: int = 0
    discharged: int = 0
    specimens: int = 0
    earned_points: int = 0
    manual_points: int = 0
    redeemed_points: int = 0
    balance_points: int = 0
    draws_waiting: int = 0
    prizes: PrizeTotals = field(default_factory=PrizeTotals)  # won, handed over and still owed (core.prizes)

    @property
    def earned_cents(self) -> int:
        return points_value_cents(self.earned_points, self.program.point_value_cents)

    @property
    def manual_cents(self) -> int:
        return points_value_cents(self.manual_points, self.program.point_value_cents)

    @property
    def redeemed_cents(self) -> int:
        return points_value_cents(self.redeemed_points, self.program.point_value_cents)

    @property
    def points_outstanding_cents(self) -> int:
        return points_value_cents(self.balance_points, self.program.point_value_cents)

    @property
    def outstanding_cents(self) -> int:
        """What the programme still owes: the points patients hold and the prizes won but not handed over."""
        return self.points_outstanding_cents + self.prizes.waiting_cents


@dataclass(frozen=True, slots=True)
class ProgrammeRow:
    program: Program
    targets: list[tuple[ProgramTarget, str]]
    active: int


def _programs() -> list[Program]:
    query = select(Program).options(selectinload(Program.targets).selectinload(ProgramTarget.schedule_versions))
    return list(db.session.scalars(query.order_by(Program.is_archived, Program.name)))


def enrolment_counts() -> dict[int, dict[EnrollmentStatus, int]]:
    counts: dict[int, dict[EnrollmentStatus, int]] = defaultdict(dict)
    query = (select(Enrollment.program_id, Enrollment.status, func.count())
             .group_by(Enrollment.program_id, Enrollment.status))
    for program_id, status, n in db.session.execute(query):
        counts[program_id][status] = n
    return counts


def specimen_counts() -> dict[int, int]:
    query = (select(Enrollment.program_id, func.count(Specimen.id))
             .join(Enrollment, Specimen.enrollment_id == Enrollment.id).group_by(Enrollment.program_id))
    return {key: value for key, value in db.session.execute(query)}


def _points_where(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, LedgerEntry.points), else_=0)), 0)


def ledger_totals() -> dict[int, tuple[int, int, int, int, int]]:
    """Per programme: earned (awards and engine adjustments, net), manual, redeemed, balance and draws left."""
    query = (
        select(
            Enrollment.program_id,
            _points_where(LedgerEntry.kind.in_(EARNING_KINDS)),
            _points_where(LedgerEntry.kind == EntryKind.MANUAL),
            _points_where(LedgerEntry.kind == EntryKind.REDEMPTION),
            func.coalesce(func.sum(LedgerEntry.points), 0),
            func.coalesce(func.sum(LedgerEntry.draws), 0),
        )
        .join(Enrollment, LedgerEntry.enrollment_id == Enrollment.id)
        .group_by(Enrollment.program_id)
    )
    return {pid: (int(e), int(m), -int(r), int(b), int(d)) for pid, e, m, r, b, d in db.session.execute(query)}


def programme_figures() -> list[ProgrammeFigures]:
    counts, specimens, ledger, prizes = enrolment_counts(), specimen_counts(), ledger_totals(), totals_by_program()
    figures = []
    for program in _programs():
        status = counts.get(program.id, {})
        earned, manual, redeemed, balance, draws = ledger.get(program.id, (0, 0, 0, 0, 0))
        figures.append(ProgrammeFigures(
            program, active=status.get(EnrollmentStatus.ACTIVE, 0),
            completed=status.get(EnrollmentStatus.COMPLETED, 0), discharged=status.get(EnrollmentStatus.DISCHARGED, 0),
            specimens=specimens.get(program.id, 0), earned_points=earned, manual_points=manual,
            redeemed_points=redeemed, balance_points=balance, draws_waiting=draws,
            prizes=prizes.get(program.id, PrizeTotals()),
        ))
    return figures


def programme_rows(today: date) -> list[ProgrammeRow]:
    counts = enrolment_counts()
    return [
        ProgrammeRow(program, [(t, schedule_summary(schedule_in_force(t, today))) for t in program.targets],
                     counts.get(program.id, {}).get(EnrollmentStatus.ACTIVE, 0))
        for program in _programs()
    ]


def schedule_in_force(target: ProgramTarget, today: date) -> dict[str, Any] | None:
    """The latest schedule version in effect today, else the first one (a programme that starts later)."""
    versions: list[ScheduleVersion] = target.schedule_versions
    current = [v for v in versions if v.effective_on <= today]
    chosen = current[-1] if current else (versions[0] if versions else None)
    return chosen.schedule if chosen else None


def visit_days_text(days: list[str] | None) -> str:
    return ", ".join(DAY_NAMES.get(d, d) for d in days or []) or "None set"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def schedule_summary(schedule: dict[str, Any] | None) -> str:
    """One line a clinician can check against the protocol, e.g. "10 points, +5 per success in a row, ..."."""
    if not schedule:
        return "No schedule set"
    kind = schedule.get("kind")
    if kind == "fixed":
        amounts = [_plural(schedule[k], k[:-1]) for k in ("points", "draws") if schedule.get(k)]
        return f"{' and '.join(amounts) or 'Nothing'} on every success"
    unit = "draw" if kind == "prize_draws" else "point"
    prefix = "" if kind == "escalating" else "_draws"
    start = schedule.get("start" + prefix) or 0
    parts = [_plural(start, unit)]
    per = "week" if schedule.get("escalate_per") == "week" else "success"
    if schedule.get("step" + prefix):
        parts.append(f"+{schedule['step' + prefix]} per {per} in a row")
    if schedule.get("max" + prefix):
        parts.append(f"up to {_plural(schedule['max' + prefix], unit)}")
    if kind == "escalating" and schedule.get("bonus_every") and schedule.get("bonus"):
        parts.append(f"+{schedule['bonus']} bonus every {schedule['bonus_every']} in a row")
    if kind == "prize_draws" and schedule.get("bonus_draws"):
        parts.append(f"+{_plural(schedule['bonus_draws'], 'draw')} if also negative for "
                     f"{', '.join(schedule.get('bonus_analytes') or [])}")
    if schedule.get("recovery_after"):
        parts.append(f"earlier level back after {schedule['recovery_after']} in a row")
    return ", ".join(parts)
