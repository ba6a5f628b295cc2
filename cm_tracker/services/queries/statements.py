"""A patient's balance with the cap and what the next success of each target earns (docs/api.md balance).

What comes next is the stored state of the enrolment's targets (core.target_states), fitted to the cap use of the
balance read beside it, so a statement costs a fixed handful of queries whatever the length of the history."""

from __future__ import annotations

from dataclasses import dataclass

from cm_tracker.engine.program import fit_preview
from cm_tracker.models import EnrollmentStatus, Patient
from cm_tracker.services.core.balances import Balance, CapUse, standing_of
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.target_states import states_from_rows


@dataclass(frozen=True)
class NextReward:
    target: str
    points: int
    draws: int
    explanation: str
    reset_points: int
    reset_draws: int
    reset_explanation: str
    run: int  # the target's successes in a row now (its stored state)


@dataclass(frozen=True)
class Statement:
    """The balance (core.balances, with its value and cap use), the current programme's point value and what comes
    next."""

    balance: Balance
    point_value_cents: int
    next: list[NextReward]

    @property
    def value_cents(self) -> int:
        return self.balance.value_cents

    @property
    def cap(self) -> CapUse | None:
        return self.balance.cap


def statement_for(patient: Patient) -> Statement:
    today = clinic_today()
    standing = standing_of(patient.id, today)
    balance, enrollment = standing.balance, standing.enrollment
    if enrollment is None:
        return Statement(balance, 0, [])
    program = enrollment.program
    upcoming: list[NextReward] = []
    if enrollment.status == EnrollmentStatus.ACTIVE:
        used = balance.cap.used_cents if balance.cap else 0
        for key, now in states_from_rows([enrollment], standing.states, today)[enrollment.id].items():
            p = fit_preview(now.next, program.cap_cents, program.max_award_cents, used, program.point_value_cents)
            upcoming.append(NextReward(key, p.points, p.draws, p.explanation, p.reset_points, p.reset_draws,
                                       p.reset_explanation, now.run))
    return Statement(balance, program.point_value_cents, upcoming)
