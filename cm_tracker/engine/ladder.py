"""One shape for escalating points and escalating draws, which follow the same rules (docs/rules.md 4.1, 4.2)."""

from dataclasses import dataclass

from cm_tracker.engine.schedules import EscalatePer, EscalatingSchedule, PrizeDrawSchedule


@dataclass(frozen=True, slots=True)
class Ladder:
    """The numbers of an escalating schedule, whether it counts points or draws.

    `bonus_every`/`bonus` is the run bonus of 4.1; `bonus_draws` the bonus-analyte draws of 4.2.
    """

    unit: str  # "point" or "draw"
    start: int
    step: int
    max: int | None
    per_week: bool
    recovery_after: int
    bonus_every: int = 0
    bonus: int = 0
    bonus_draws: int = 0
    bonus_analytes: tuple[str, ...] = ()

    def value(self, level: int) -> int:
        """What a success at `level` pays before any bonus: min(start + step * level, max)."""
        amount = self.start + self.step * level
        return amount if self.max is None or amount < self.max else self.max


def ladder_of(schedule: EscalatingSchedule | PrizeDrawSchedule) -> Ladder:
    if isinstance(schedule, EscalatingSchedule):
        return Ladder(
            unit="point",
            start=schedule.start,
            step=schedule.step,
            max=schedule.max,
            per_week=schedule.escalate_per == EscalatePer.WEEK,
            recovery_after=schedule.recovery_after,
            bonus_every=schedule.bonus_every,
            bonus=schedule.bonus,
        )
    return Ladder(
        unit="draw",
        start=schedule.start_draws,
        step=schedule.step_draws,
        max=schedule.max_draws,
        per_week=schedule.escalate_per == EscalatePer.WEEK,
        recovery_after=schedule.recovery_after,
        bonus_draws=schedule.bonus_draws,
        bonus_analytes=tuple(sorted(schedule.bonus_analytes)),
    )
