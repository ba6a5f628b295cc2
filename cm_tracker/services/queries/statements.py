"""A patient's balance with the cap and what the next success of each target earns (docs/api.md balance)."""

from __future__ import annotations

from dataclasses import dataclass

from cm_tracker.models import EnrollmentStatus, Patient
from cm_tracker.services.core.balances import Balance, CapUse, balance_of
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.evaluation import snapshot


@dataclass(frozen=True)
class NextReward:
    target: str
    points: int
    draws: int
    explanation: str
    reset_points: int
    reset_draws: int
    reset_explanation: str


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
    balance = balance_of(patient.id, today)
    enrollment = current_enrollment(patient)
    if enrollment is None:
        return Statement(balance, 0, [])
    upcoming: list[NextReward] = []
    if enrollment.status == EnrollmentStatus.ACTIVE:
        for key, p in snapshot(enrollment).preview(today).items():
            upcoming.append(NextReward(str(key), p.points, p.draws, p.explanation, p.reset_points, p.reset_draws,
                                       p.reset_explanation))
    return Statement(balance, enrollment.program.point_value_cents, upcoming)
