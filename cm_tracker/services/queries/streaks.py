"""Current streaks of many enrollments at once: the run of each target after its last event (docs/rules.md 4).

The run is the stored state of each target (core.target_states), read for every enrollment in one query; an
enrollment without a current row is evaluated there, all such at once, so a caseload of any size costs the same
number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from cm_tracker.engine import ScheduleKind
from cm_tracker.models import Enrollment, ProgramTarget
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.target_states import StoredRow, states_for, states_from_rows
from cm_tracker.services.queries.overview import schedule_in_force


@dataclass(frozen=True)
class Streak:
    target: str
    label: str
    run: int

    @property
    def text(self) -> str:
        return f"{self.label}: {self.run} in a row"


def streaks_for(enrollments: list[Enrollment], on: date | None = None, *,
                stored: Iterable[StoredRow] | None = None) -> dict[int, tuple[Streak, ...]]:
    """Each enrollment's streak per target, in the programme's target order; `stored` are the enrollments' stored
    rows when the caller read them already (the caseload reads them with the balances, core.balances.standings).

    A target paid a fixed reward today has no streak: its run is never counted (docs/rules.md 4.3), so "0 in a
    row" after five attended sessions would be false; it is left out rather than shown."""
    if not enrollments:
        return {}
    on = on or clinic_today()
    states = states_for(enrollments, on, every_target=True) if stored is None else \
        states_from_rows(enrollments, stored, on, every_target=True)
    programs = {e.program_id: e.program for e in enrollments}  # each target decided once, not once per patient
    counted = {t.id: has_streak(t, on) for program in programs.values() for t in program.targets}
    return {e.id: tuple(Streak(str(t.key), t.label, states[e.id][str(t.key)].run)
                        for t in e.program.targets if counted[t.id])
            for e in enrollments}


def has_streak(target: ProgramTarget, on: date) -> bool:
    """Whether the target's schedule in force on `on` counts successes in a row (escalating points or draws)."""
    schedule = schedule_in_force(target, on)
    return schedule is None or schedule.get("kind") != ScheduleKind.FIXED
