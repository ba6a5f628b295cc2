"""Current streaks of many enrollments at once: the run of each target after its last event (docs/rules.md 4).

The engine evaluates each enrollment's whole history, exactly as core.evaluation does, but the events of every
enrollment are loaded with a fixed handful of queries, so a caseload of any size costs the same number of queries.
Caps do not change a run, so they are left out here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cm_tracker.engine.events import TargetEvent
from cm_tracker.engine.outcomes import classify_activity, classify_attendance
from cm_tracker.engine.program import evaluate_program
from cm_tracker.engine.rules import ProgramRules, TargetKind
from cm_tracker.extensions import db
from cm_tracker.models import AttendanceRecord, Enrollment, GoalActivity, Program, ProgramTarget, Specimen
from cm_tracker.services.core.clinic import clinic_date
from cm_tracker.services.core.evaluation import rules_for, specimen_outcomes

Events = dict[Hashable, list[TargetEvent]]


@dataclass(frozen=True)
class Streak:
    target: str
    label: str
    run: int

    @property
    def text(self) -> str:
        return f"{self.label}: {self.run} in a row"


def streaks_for(enrollments: list[Enrollment]) -> dict[int, tuple[Streak, ...]]:
    """Each enrollment's streak per target, in the programme's target order."""
    if not enrollments:
        return {}
    rules = _rules({e.program_id for e in enrollments})
    events = _events(enrollments, rules)
    found: dict[int, tuple[Streak, ...]] = {}
    for e in enrollments:
        program_rules = rules[e.program_id]
        evaluation = evaluate_program(program_rules, events.get(e.id, {}))
        found[e.id] = tuple(
            Streak(str(t.key), t.label, evaluation.by_target[t.key][-1].run if evaluation.by_target[t.key] else 0)
            for t in program_rules.targets)
    return found


def _rules(program_ids: Iterable[int]) -> dict[int, ProgramRules]:
    programs = db.session.scalars(select(Program).where(Program.id.in_(list(program_ids))).options(
        selectinload(Program.targets).selectinload(ProgramTarget.schedule_versions)))
    return {p.id: rules_for(p) for p in programs}


def _events(enrollments: list[Enrollment], rules: dict[int, ProgramRules]) -> dict[int, Events]:
    ids = [e.id for e in enrollments]
    program_of = {e.id: rules[e.program_id] for e in enrollments}
    events: dict[int, Events] = defaultdict(lambda: defaultdict(list))
    specimens = db.session.scalars(select(Specimen).where(Specimen.enrollment_id.in_(ids))
                                   .options(selectinload(Specimen.results)))
    for s in specimens:
        for key, (outcome, reason, bonus) in specimen_outcomes(program_of[s.enrollment_id], s).items():
            events[s.enrollment_id][key].append(TargetEvent(("specimen", s.id), s.collected_at,
                                                            clinic_date(s.collected_at), outcome, bonus, reason))
    for r in db.session.scalars(select(AttendanceRecord).where(AttendanceRecord.enrollment_id.in_(ids))):
        if _kind(program_of[r.enrollment_id], r.target_key) == TargetKind.ATTENDANCE:
            verdict = classify_attendance(r.status)
            events[r.enrollment_id][r.target_key].append(TargetEvent(
                ("attendance", r.id), r.occurred_at, clinic_date(r.occurred_at), verdict.outcome, False,
                verdict.reason))
    for a in db.session.scalars(select(GoalActivity).where(GoalActivity.enrollment_id.in_(ids),
                                                          GoalActivity.occurred_at.is_not(None))):
        if _kind(program_of[a.enrollment_id], a.target_key) == TargetKind.ACTIVITY and a.occurred_at:
            verdict = classify_activity(a.status)
            events[a.enrollment_id][a.target_key].append(TargetEvent(
                ("activity", a.id), a.occurred_at, clinic_date(a.occurred_at), verdict.outcome, False, verdict.reason))
    return events


def _kind(rules: ProgramRules, key: str) -> TargetKind | None:
    return next((TargetKind(t.kind) for t in rules.targets if str(t.key) == key), None)
