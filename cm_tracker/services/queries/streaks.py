"""Current streaks of many enrollments at once: the run of each target after its last event (docs/rules.md 4).

The engine evaluates each enrollment's whole history from the same events as core.evaluation (core.events), those of
every enrollment loaded with a fixed handful of queries, so a caseload of any size costs the same number of queries.
Caps do not change a run, so they are left out here.
"""

from __future__ import annotations

from dataclasses import dataclass

from cm_tracker.engine.program import evaluate_program
from cm_tracker.models import Enrollment
from cm_tracker.services.core.events import events_for_many, rules_by_program


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
    rules = rules_by_program({e.program_id for e in enrollments})
    events = events_for_many(enrollments, rules)
    found: dict[int, tuple[Streak, ...]] = {}
    for e in enrollments:
        program_rules = rules[e.program_id]
        evaluation = evaluate_program(program_rules, events.get(e.id, {}))
        found[e.id] = tuple(
            Streak(str(t.key), t.label, evaluation.by_target[t.key][-1].run if evaluation.by_target[t.key] else 0)
            for t in program_rules.targets)
    return found
