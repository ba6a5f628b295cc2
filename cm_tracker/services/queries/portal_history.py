"""The patient's history and weekly progress as structured facts, so the portal can say them in any language.

The ledger's stored `reason` is the English audit text; the portal never translates it. Instead each entry is paired
with what explains it: the engine's current award for its event (outcome, streak, bonus, recovery), the cause of
that outcome (which analytes were positive, a missed visit...), the amounts before and after a correction, and the
redemption or draw it belongs to. patient/wording.py turns these into sentences.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cm_tracker.engine.events import Award
from cm_tracker.engine.outcomes import DilutePolicy, Outcome, classify_specimen
from cm_tracker.engine.rules import TargetKind
from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    Draw,
    Enrollment,
    EntryKind,
    GoalActivity,
    LedgerEntry,
    Patient,
    ProgramTarget,
    Redemption,
    Specimen,
)
from cm_tracker.money import points_value_cents
from cm_tracker.services.core.clinic import clinic_date
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.evaluation import snapshot
from cm_tracker.services.core.events import specimen_facts
from cm_tracker.services.core.ledger import EARNING_KINDS, ENGINE_KINDS

MAX_WEEKS = 26


@dataclass(frozen=True)
class Cause:
    """Why an event had its outcome, as a code a sentence can be chosen by ("positive", "missed", ...)."""

    code: str
    analytes: tuple[str, ...] = ()
    note: str = ""  # a goal activity's description, as staff wrote it


@dataclass(frozen=True)
class Line:
    """One ledger entry with everything needed to say it in plain words."""

    entry: LedgerEntry
    label: str
    target_kind: TargetKind | None
    award: Award | None  # the engine's current award for the event, when it is what this entry now stands for
    cause: Cause | None
    before: tuple[int, int] | None  # points and draws the event held before this correction
    after: tuple[int, int] | None
    superseded: bool  # a later correction changed what this event earns
    redemption: Redemption | None
    draw: Draw | None

    @property
    def happened_at(self) -> datetime:
        """When the line happened for the patient: a correction when it was made, anything else when it occurred."""
        if self.entry.kind == EntryKind.ADJUSTMENT:
            return self.entry.created_at
        return self.entry.occurred_at or self.entry.created_at


@dataclass(frozen=True)
class Week:
    starts_on: date
    negative: int
    failed: int  # positive, missed, refused or invalid
    excused: int  # excused, pending or otherwise not counted
    points: int
    draws: int
    value_cents: int


def history(patient: Patient) -> list[Line]:
    """Every ledger entry of the patient, newest first, each with its explanation."""
    entries = list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.patient_id == patient.id).order_by(LedgerEntry.id)
    ))
    enrollments = {e.id: e for e in patient.enrollments}
    evaluations = {eid: snapshot(enrollments[eid]).evaluate().awards
                   for eid in {e.enrollment_id for e in entries} if eid in enrollments}
    last_of_event = {_event_key(e): e.id for e in entries if e.kind in ENGINE_KINDS and e.event_type}
    causes = _causes(entries, enrollments)
    redemptions = _by_id(Redemption, {e.redemption_id for e in entries if e.redemption_id})
    draws = _by_id(Draw, {e.draw_id for e in entries if e.draw_id})
    held: dict[tuple[object, ...], tuple[int, int]] = defaultdict(lambda: (0, 0))
    lines = []
    for entry in entries:
        target = _target(enrollments.get(entry.enrollment_id), entry.target_key)
        label, kind = (target.label, target.kind) if target else (entry.target_key or "", None)
        award = before = after = None
        superseded = False
        if entry.kind in ENGINE_KINDS and entry.event_type:
            key = _event_key(entry)
            before = held[key]
            after = held[key] = (before[0] + entry.points, before[1] + entry.draws)
            current = evaluations.get(entry.enrollment_id, {}).get(
                (entry.target_key, (str(entry.event_type), entry.event_id)))
            superseded = last_of_event[key] != entry.id
            if current is not None and not superseded and (current.points, current.draws) == after:
                award = current
        cause = causes.get((entry.enrollment_id, entry.target_key, str(entry.event_type), entry.event_id))
        lines.append(Line(entry, label, kind, award, cause if award else None,
                          before if entry.kind == EntryKind.ADJUSTMENT else None,
                          after if entry.kind == EntryKind.ADJUSTMENT else None, superseded,
                          redemptions.get(entry.redemption_id), draws.get(entry.draw_id)))
    return lines[::-1]


def _event_key(entry: LedgerEntry) -> tuple[object, ...]:
    return (entry.enrollment_id, str(entry.event_type), entry.event_id, entry.target_key)


def _target(enrollment: Enrollment | None, key: str | None) -> ProgramTarget | None:
    if enrollment is None or key is None:
        return None
    return next((t for t in enrollment.program.targets if t.key == key), None)


def _by_id(model: type, ids: set[int]) -> dict[int, object]:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def _causes(entries: Iterable[LedgerEntry], enrollments: dict[int, Enrollment]) -> dict[tuple[object, ...], Cause]:
    """The cause of each engine entry's event outcome, per (enrollment, target, event type, event id)."""
    wanted = {(e.enrollment_id, e.target_key, str(e.event_type), e.event_id)
              for e in entries if e.kind in ENGINE_KINDS and e.event_type and e.event_id}
    ids: dict[str, set[int]] = defaultdict(set)
    for _, _, event_type, event_id in wanted:
        ids[event_type].add(int(event_id))
    specimens = {s.id: s for s in db.session.scalars(
        select(Specimen).where(Specimen.id.in_(ids["specimen"])).options(selectinload(Specimen.results)))}
    attendance = _by_id(AttendanceRecord, ids["attendance"])
    activities = _by_id(GoalActivity, ids["activity"])
    found: dict[tuple[object, ...], Cause] = {}
    for enrollment_id, target_key, event_type, event_id in wanted:
        target = _target(enrollments.get(int(enrollment_id)), target_key)
        if event_type == "specimen" and event_id in specimens and target is not None:
            program = enrollments[int(enrollment_id)].program
            cause = specimen_cause(specimens[event_id], frozenset(target.analytes), str(program.dilute_policy))
        elif event_type == "attendance" and event_id in attendance:
            cause = Cause(f"attendance_{attendance[event_id].status}")
        elif event_type == "activity" and event_id in activities:
            activity = activities[event_id]
            cause = Cause(f"activity_{activity.status}", note=activity.description)
        else:
            continue
        found[(enrollment_id, target_key, event_type, event_id)] = cause
    return found


def specimen_cause(specimen: Specimen, analytes: frozenset[str], dilute_policy: str) -> Cause:
    """Which rule of docs/rules.md 3 decided a specimen, as the engine itself reports it."""
    verdict = classify_specimen(specimen_facts(specimen), analytes, DilutePolicy(dilute_policy))
    code = "dilute_neutral" if verdict.code == "dilute" and verdict.outcome is Outcome.NEUTRAL else verdict.code
    return Cause(code, verdict.analytes)


def weeks(patient: Patient, today: date) -> list[Week]:
    """Week by week (Monday first) of the current episode: test results of the main target and what was earned."""
    enrollment = current_enrollment(patient)
    if enrollment is None:
        return []
    first = _monday(enrollment.start_on)
    last = _monday(min(today, enrollment.end_on or today))
    if last < first:
        return []
    first = max(first, last - timedelta(weeks=MAX_WEEKS - 1))
    results = _weekly_results(enrollment)
    earned = _weekly_earnings(enrollment)
    pv = enrollment.program.point_value_cents
    out = []
    day = first
    while day <= last:
        negative, failed, excused = results.get(day, (0, 0, 0))
        points, draws = earned.get(day, (0, 0))
        out.append(Week(day, negative, failed, excused, points, draws, points_value_cents(points, pv)))
        day += timedelta(weeks=1)
    return out


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def main_target(enrollment: Enrollment) -> Hashable | None:
    """The programme's first abstinence target (its tests), else its first target."""
    targets = enrollment.program.targets
    chosen = next((t for t in targets if t.kind == TargetKind.ABSTINENCE), targets[0] if targets else None)
    return chosen.key if chosen else None


def _weekly_results(enrollment: Enrollment) -> dict[date, tuple[int, int, int]]:
    key = main_target(enrollment)
    if key is None:
        return {}
    counts: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    slot = {Outcome.SUCCESS: 0, Outcome.FAILURE: 1, Outcome.NEUTRAL: 2}
    for award in snapshot(enrollment).evaluate().by_target.get(key, ()):
        counts[_monday(award.on)][slot[Outcome(award.outcome)]] += 1
    return {day: (c[0], c[1], c[2]) for day, c in counts.items()}


def _weekly_earnings(enrollment: Enrollment) -> dict[date, tuple[int, int]]:
    rows = db.session.execute(
        select(LedgerEntry.occurred_at, LedgerEntry.created_at, LedgerEntry.points, LedgerEntry.draws)
        .where(LedgerEntry.enrollment_id == enrollment.id, LedgerEntry.kind.in_(EARNING_KINDS))
    ).all()
    sums: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for occurred, created, points, draws in rows:
        week = _monday(clinic_date(occurred or created))
        sums[week][0] += points
        sums[week][1] += draws
    return {day: (s[0], s[1]) for day, s in sums.items()}
