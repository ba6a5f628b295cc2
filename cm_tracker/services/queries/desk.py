"""Desk entry: the analyte panel a programme tests, the visit being recorded, and the result told to the patient.

The result page is the CM "tell the patient what they earned today and what the next success is worth" step
(docs/rules.md 7): every figure and the sentence itself are built here from the ledger and the engine, so no template
does arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    User,
    VisitKind,
)
from cm_tracker.money import format_cents
from cm_tracker.services.core.clinic import clinic_date, clinic_today
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import NotFound
from cm_tracker.services.core.events import rules_for, specimen_outcomes
from cm_tracker.services.core.ledger import entries_for_event
from cm_tracker.services.core.visit_links import is_open, visit_for
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
    # Which visit the specimen stands for, said when it is not simply the visit of its own day (or there is none).
    visit_text: str = ""


@dataclass(frozen=True)
class Difference:
    """A fact typed on a stale form that differs from the one recorded, both in the form's vocabulary."""

    field: str
    recorded: str
    typed: str


@dataclass(frozen=True)
class AlreadyRecorded:
    """A visit recorded since its form was loaded (Back after saving, a second tab): what, by whom, and how the
    typed form compares. `differences` empty = the typed form says what is recorded."""

    specimen: Specimen
    recorded_by: str
    facts: dict[str, str]
    differences: list[Difference]

    @property
    def conflicts(self) -> bool:
        return bool(self.differences)


@dataclass(frozen=True)
class OtherDay:
    """A visit's form sent with another collection date: the visit's own day, the typed one, and the open test
    visit of the typed day if there is one (which a specimen recorded by its date takes, core.visit_links)."""

    due_on: date
    typed_on: date
    visit_that_day: int | None


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


def patient_test_visit(patient: Patient, visit_id: int) -> ScheduledVisit:
    """A test visit of this patient, open or recorded, or NotFound (not one of this patient's test visits)."""
    visit = db.session.scalar(select(ScheduledVisit).join(Enrollment).where(
        ScheduledVisit.id == visit_id, Enrollment.patient_id == patient.id, ScheduledVisit.kind == VisitKind.TEST))
    if visit is None:
        raise NotFound("This visit is not one of this patient's test visits.")
    return visit


def visit_specimen(visit: ScheduledVisit) -> Specimen | None:
    """The specimen that fulfils the visit, if one does."""
    return db.session.scalar(select(Specimen).where(Specimen.visit_id == visit.id)
                             .options(selectinload(Specimen.results)).limit(1))


def other_day(visit: ScheduledVisit, typed_on: date | None) -> OtherDay | None:
    """A collection date other than the visit's day: the form asks which visit the specimen belongs to, so a typed
    date never takes the visit silently."""
    if typed_on is None or typed_on == visit.due_on:
        return None
    return OtherDay(visit.due_on, typed_on, visit_for(visit.enrollment_id, VisitKind.TEST, typed_on))


def recorded_facts(specimen: Specimen) -> dict[str, str]:
    """The recorded specimen in the desk form's vocabulary (field name -> choice value; "" for none)."""
    def yes_no(value: bool | None) -> str:
        return "" if value is None else ("yes" if value else "no")

    facts = {"status": str(specimen.status), "validity": str(specimen.validity or ""),
             "temperature_ok": yes_no(specimen.temperature_ok), "observed": yes_no(specimen.is_observed),
             "method": str(specimen.method or "")}
    facts.update({f"result_{r.analyte}": str(r.result) for r in specimen.results})
    return facts


def already_recorded(specimen: Specimen, typed: Mapping[str, str]) -> AlreadyRecorded:
    """Compare what a stale form typed with the recorded specimen: a fact left blank claims nothing, so only a
    chosen value that differs is a conflict (the time is left out: a second tab's default time is its load time)."""
    recorded = recorded_facts(specimen)
    differences = [Difference(name, recorded.get(name, ""), value) for name, value in typed.items()
                   if value and value != recorded.get(name, "")]
    by = db.session.get(User, specimen.recorded_by_id) if specimen.recorded_by_id else None
    return AlreadyRecorded(specimen, by.display_name if by else "the day-closing job", recorded, differences)


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
    collected_on, today = clinic_date(specimen.collected_at), clinic_today()
    sentence = tell_patient(specimen.status, [o for o, _, _ in outcomes.values()],
                            [r for _, r, _ in outcomes.values()], earned, upcoming, labels,
                            on=collected_on, today=today)
    return DeskResult(specimen, results, awards, earned, next_lines, _balance(statement), sentence,
                      _visit_text(specimen, collected_on, today))


def _visit_text(specimen: Specimen, collected_on: date, today: date) -> str:
    # One statement whether or not the specimen names a visit: the page's cost does not depend on the record.
    due_on = db.session.scalar(select(ScheduledVisit.due_on).where(ScheduledVisit.id == specimen.visit_id))
    if specimen.visit_id is None:
        return (f"Recorded as an unscheduled specimen of {day_words(collected_on, today)}: it fulfils no "
                "scheduled visit.")
    if due_on is None or due_on == collected_on:
        return ""
    return f"Collected on {day_words(collected_on, today)}, for the visit due {day_words(due_on, today)}."


def day_words(day: date, today: date) -> str:
    """A day as the desk says it aloud, "Monday 30 November" (with the year when it is not this year's)."""
    said = f"{day:%A} {day.day} {day:%B}"
    return said if day.year == today.year else f"{said} {day.year}"


def on_the_day(day: date | None, today: date | None) -> str:
    """ "today" for today's test (or when no day is given), else "on Monday 30 November"."""
    if day is None or today is None or day == today:
        return "today"
    return f"on {day_words(day, today)}"


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
                 upcoming: list[NextReward], labels: dict[str, str], *, on: date | None = None,
                 today: date | None = None) -> str:
    """The sentence the counselor reads out, e.g. "Your test is negative: you earned 25 points ($6.25) today.
    Your next negative test earns 30 points." A test of another clinic day names its day ("on Monday 30
    November"): a late entry read out as "today" tells the patient something that did not happen today."""
    when = on_the_day(on, today)
    return f"{_opening(status, outcomes, reasons)}: {_today(status, outcomes, earned, when)}.{_next(upcoming, labels)}"


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


def _today(status: SpecimenStatus, outcomes: list[Outcome], earned: str, when: str) -> str:
    if earned:
        return f"you earned {earned} {when}"
    if status == SpecimenStatus.PENDING:
        return "points are added as soon as the result is final"
    if any(o == Outcome.FAILURE for o in outcomes):
        return f"no points {when}, and the streak starts again"
    return f"no points {when}, and your streak is kept"


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
                                         is_open(ScheduledVisit.id))
            .order_by(ScheduledVisit.due_on.desc(), ScheduledVisit.kind, ScheduledVisit.id.desc()).limit(limit)))
    specimens = list(db.session.scalars(select(Specimen).where(Specimen.patient_id == patient.id)
                                        .options(selectinload(Specimen.results))
                                        .order_by(Specimen.collected_at.desc(), Specimen.id.desc()).limit(limit)))
    marks = list(db.session.scalars(select(AttendanceRecord).where(AttendanceRecord.patient_id == patient.id)
                                    .order_by(AttendanceRecord.occurred_at.desc(), AttendanceRecord.id.desc())
                                    .limit(limit)))
    excuses = list(db.session.scalars(select(Excuse).join(Enrollment).where(Enrollment.patient_id == patient.id)
                                      .order_by(Excuse.excused_on.desc(), Excuse.id.desc()).limit(limit)))
    can_end = enrollment is not None and enrollment.status == EnrollmentStatus.ACTIVE
    return PatientDesk(open_visits, specimens, marks, excuses, can_end)
