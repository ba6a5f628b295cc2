"""A patient's balance with the cap and what the next success of each target earns (docs/api.md balance)."""

from __future__ import annotations

from dataclasses import dataclass

from cm_tracker.models import EnrollmentStatus, Patient
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.evaluation import snapshot
from cm_tracker.services.core.ledger import Balance, balance_of, cap_used_cents


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
class CapStatus:
    cap_cents: int
    used_cents: int
    window: str

    @property
    def remaining_cents(self) -> int:
        return max(0, self.cap_cents - self.used_cents)


@dataclass(frozen=True)
class Statement:
    balance: Balance
    point_value_cents: int
    cap: CapStatus | None
    next: list[NextReward]

    @property
    def value_cents(self) -> int:
        return self.balance.points * self.point_value_cents



def statement_for(patient: Patient) -> Statement:
    balance = balance_of(patient.id)
    enrollment = current_enrollment(patient)
    if enrollment is None:
        return Statement(balance, 0, None, [])
    program = enrollment.program
    today = clinic_today()
    cap = CapStatus(program.cap_cents, cap_used_cents(enrollment, program.cap_window, today), str(program.cap_window))
    upcoming: list[NextReward] = []
    if enrollment.status == EnrollmentStatus.ACTIVE:
        for key, p in snapshot(enrollment).preview(today).items():
            upcoming.append(NextReward(str(key), p.points, p.draws, p.explanation, p.reset_points, p.reset_draws,
                                       p.reset_explanation))
    return Statement(balance, program.point_value_cents, cap, upcoming)
