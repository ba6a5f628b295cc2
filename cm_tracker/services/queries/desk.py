"""Desk entry: the analyte panel a programme tests, the visit being recorded, and the result told to the patient.

The result page is the CM "tell the patient what they earned today and what the next success is worth" step
(docs/rules.md 7): every figure and the sentence itself are built here from the ledger and the engine, so no template
does arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cm_tracker.engine.outcomes import Outcome
from cm_tracker.engine.rules import TargetKind
from cm_tracker.engine.schedules import PrizeDrawSchedule
from cm_tracker.engine.text import count, join_words
from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    Enrollment,
    EnrollmentStatus,
    EventType,
    Excuse,
    LedgerEntry,
    Patient,
    Program,
    ScheduledVisit,
    Specimen,
    SpecimenStatus,
    VisitKind,
)
from cm_tracker.money import format_cents
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.core.events import rules_for, specimen_outcomes
from cm_tracker.services.core.ledger import entries_for_event
from cm_tracker.services.core.visit_links import is_taken, visit_for
from cm_tracker.services.queries.statements import NextReward, Statement, statement_for


@dataclass(frozen=True)
class TargetResult:
    label: str
    outcome: str
    reason: str


@dataclass(frozen=True)
class NextLine:
    label: str
    explanation: str
    reset_explanation: str


@dataclass(frozen=True)
class DeskResult:
    specimen: Specimen
    results: list[TargetResult]
    awards: list[LedgerEntry]
    earned_text: str
    next: list[NextLine]
    balance_text: str
    sentence: str


def panel(program: Program) -> list[str]:
    """The analytes the desk asks about: every abstinence target's set, then any prize-draw bonus analytes."""
    analytes: list[str] = []
    for target in rules_for(program).targets:
        if target.kind != TargetKind.ABSTINENCE:
            continue
        extra = target.schedule.bonus_analytes if isinstance(target.schedule, PrizeDrawSchedule) else frozenset()
        for analyte in [*sorted(target.analytes), *sorted(extra)]:
            if analyte not in analytes:
                analytes.append(analyte)
    return analytes


def open_test_visit(patient: Patient, visit_id: int) -> ScheduledVisit:
    """A test visit of this patient that nothing fulfils yet, or NotFound (an unknown or recorded visit)."""
    visit = db.session.scalar(select(ScheduledVisit).join(Enrollment).where(
        ScheduledVisit.id == visit_id, Enrollment.patient_id == patient.id, ScheduledVisit.kind == VisitKind.TEST))
    if visit is None or visit_for(visit.enrollment_id, VisitKind.TEST, visit.due_on) is None:
        raise NotFound("This visit is not open for recording.")
    return visit


def desk_result(patient: Patient, specimen: Specimen) -> DeskResult:
    program = specimen.enrollment.program
    rules = rules_for(program)
    labels = {str(t.key): t.label for t in rules.targets}
    outcomes = specimen_outcomes(rules, specimen)
    results = [TargetResult(labels[key], str(outcome), reason) for key, (outcome, reason, _) in outcomes.items()]
    awards = list(entries_for_event(EventType.SPECIMEN, specimen.id))
    points, draws = sum(e.points for e in awards), sum(e.draws for e in awards)
    earned = _amount(points, draws, sum(e.value_cents for e in awards))
    statement = statement_for(patient)
    abstinence = {str(t.key) for t in rules.targets if t.kind == TargetKind.ABSTINENCE}
    upcoming = [n for n in statement.next if n.target in abstinence]
    next_lines = [NextLine(labels.get(n.target, n.target), n.explanation, n.reset_explanation) for n in statement.next]
    sentence = tell_patient(specimen.status, [o for o, _, _ in outcomes.values()],
                            [r for _, r, _ in outcomes.values()], earned, upcoming, labels)
    return DeskResult(specimen, results, awards, earned, next_lines, _balance(statement), sentence)


def _amount(points: int, draws: int, value_cents: int) -> str:
    parts = []
    if points:
        parts.append(f"{count(points, 'point')} ({format_cents(value_cents)})" if value_cents
                     else count(points, "point"))
    if draws:
        parts.append(count(draws, "prize draw"))
    return join_words(parts)


def _balance(statement: Statement) -> str:
    text = f"{count(statement.balance.points, 'point')} ({format_cents(statement.value_cents)})"
    if statement.balance.draws:
        text += f" and {count(statement.balance.draws, 'prize draw')} waiting"
    return text


def tell_patient(status: SpecimenStatus, outcomes: list[Outcome], reasons: list[str], earned: str,
                 upcoming: list[NextReward], labels: dict[str, str]) -> str:
    """The sentence the counselor reads out, e.g. "Your test is negative: you earned 25 points ($6.25) today.
    Your next negative test earns 30 points." """
    return f"{_opening(status, outcomes, reasons)}: {_today(status, outcomes, earned)}.{_next(upcoming, labels)}"


def _opening(status: SpecimenStatus, outcomes: list[Outcome], reasons: list[str]) -> str:
    fixed = {SpecimenStatus.PENDING: "Your test went to the lab", SpecimenStatus.MISSED: "You missed this test",
             SpecimenStatus.REFUSED: "The test was refused", SpecimenStatus.EXCUSED: "Your visit is excused"}
    if status in fixed:
        return fixed[SpecimenStatus(status)]
    if outcomes and all(o == Outcome.SUCCESS for o in outcomes):
        return "Your test is negative"
    failed = [r for o, r in zip(outcomes, reasons, strict=True) if o == Outcome.FAILURE]
    if failed and failed[0].startswith("positive"):
        return f"Your test is {join_words(sorted(set(failed)))}"
    if failed:
        return f"This test cannot count as negative ({failed[0]})"
    return f"This test cannot count yet ({reasons[0] if reasons else 'no result'})"


def _today(status: SpecimenStatus, outcomes: list[Outcome], earned: str) -> str:
    if earned:
        return f"you earned {earned} today"
    if status == SpecimenStatus.PENDING:
        return "points are added as soon as the result is final"
    if any(o == Outcome.FAILURE for o in outcomes):
        return "no points today, and the streak starts again"
    return "no points today, and your streak is kept"


def _next(upcoming: list[NextReward], labels: dict[str, str]) -> str:
    if not upcoming:
        return ""
    said = [_amount(n.points, n.draws, 0) or "nothing more (the programme's limit is reached)" for n in upcoming]
    if len(upcoming) > 1:
        said = [f"{text} for {labels.get(n.target, n.target)}" for text, n in zip(said, upcoming, strict=True)]
    return f" Your next negative test earns {join_words(said)}."


@dataclass(frozen=True)
class PatientDesk:
    """What the patient page offers at the desk: open visits to record or excuse, and recent records to correct."""

    open_visits: list[ScheduledVisit]
    specimens: list[Specimen]
    attendance: list[AttendanceRecord]
    excuses: list[Excuse]
    can_end: bool


def patient_desk(patient: Patient, today: date, limit: int = 20) -> PatientDesk:
    enrollment = current_enrollment(patient)
    open_visits: list[ScheduledVisit] = []
    if enrollment is not None and enrollment.status == EnrollmentStatus.ACTIVE:
        open_visits = list(db.session.scalars(
            select(ScheduledVisit).where(ScheduledVisit.enrollment_id == enrollment.id,
                                         ScheduledVisit.due_on <= today, ScheduledVisit.due_on >= enrollment.start_on,
                                         ~is_taken(ScheduledVisit.id))
            .order_by(ScheduledVisit.due_on.desc(), ScheduledVisit.kind).limit(limit)))
    specimens = list(db.session.scalars(select(Specimen).where(Specimen.patient_id == patient.id)
                                        .options(selectinload(Specimen.results))
                                        .order_by(Specimen.collected_at.desc()).limit(limit)))
    marks = list(db.session.scalars(select(AttendanceRecord).where(AttendanceRecord.patient_id == patient.id)
                                    .order_by(AttendanceRecord.occurred_at.desc()).limit(limit)))
    excuses = list(db.session.scalars(select(Excuse).join(Enrollment).where(Enrollment.patient_id == patient.id)
                                      .order_by(Excuse.excused_on.desc()).limit(limit)))
    can_end = enrollment is not None and enrollment.status == EnrollmentStatus.ACTIVE
    return PatientDesk(open_visits, specimens, marks, excuses, can_end)
