"""The sentences awards carry, so a patient can read what they earned and why (docs/rules.md section 7).

Example: "Negative for cocaine, 4th in a row for stimulants: 25 points (10 + 3 x 5)".

The sentences are made lazily. The engine re-evaluates a whole history after every write (docs/rules.md 6) and
the services compare each award with the ledger: only the few new or changed awards are posted, and a page shows
a few more, so wording every award of every re-evaluation was most of the engine's time. An award therefore
carries the facts its sentence needs (`Award.why`: one of the explainers below and the event's reason) and
`Award.explanation` puts them into words when read; the text is exactly the one the engine used to build eagerly.
An explainer is equal to another for the same schedule and label, so awards stay equal on their facts.
"""

from dataclasses import dataclass

from cm_tracker.engine.events import Award
from cm_tracker.engine.ladder import Ladder
from cm_tracker.engine.outcomes import Outcome
from cm_tracker.engine.text import capitalize, count, join_words, ordinal

_FALLBACK_REASON = {Outcome.SUCCESS: "success", Outcome.FAILURE: "failure", Outcome.NEUTRAL: "does not count"}


def opening(reason: str, outcome: Outcome) -> str:
    return capitalize(reason or _FALLBACK_REASON[Outcome(outcome)])


def for_label(label: str) -> str:
    return f" for {label}" if label else ""


def amount_text(ladder: Ladder, level: int, base: int, bonus: int, recovered: bool) -> str:
    """'25 points (10 + 3 x 5)', with the maximum, a recovery and a bonus said when they apply."""
    unit = ladder.unit
    text = count(base, unit)
    if recovered:
        restored = f"the earlier value restored after {ladder.recovery_after} in a row"
        text += f" ({ladder.start} + {level} x {ladder.step}, {restored})"
    elif base < ladder.start + ladder.step * level:
        text += " (the maximum)"
    elif level:
        text += f" ({ladder.start} + {level} x {ladder.step})"
    if not bonus:
        return text
    if ladder.bonus_every:
        why = f"every {ordinal(ladder.bonus_every)} in a row"
    else:
        why = f"also negative for {join_words(ladder.bonus_analytes)}"
    return f"{text} + {count(bonus, 'bonus ' + unit)} ({why}) = {count(base + bonus, unit)}"


def recovery_hint(ladder: Ladder, saved_level: int) -> str:
    """What `recovery_after` successes in a row bring back after a reset, if anything."""
    if not ladder.recovery_after or not saved_level:
        return ""
    restored = count(ladder.value(saved_level), ladder.unit)
    return f"; {ladder.recovery_after} in a row bring back {restored}"


def failure_text(ladder: Ladder, label: str, reason: str, saved_level: int) -> str:
    nothing = f"no {ladder.unit}s"
    next_one = f"the next success{for_label(label)} earns {count(ladder.start, ladder.unit)}"
    return f"{opening(reason, Outcome.FAILURE)}: {nothing}; {next_one}{recovery_hint(ladder, saved_level)}"


def neutral_text(unit: str, label: str, reason: str) -> str:
    return f"{opening(reason, Outcome.NEUTRAL)}: no {unit}s; the streak{for_label(label)} is unchanged"


def fixed_text(unit: str, amount: int, label: str, reason: str, outcome: Outcome) -> str:
    """Fixed schedules (docs/rules.md 4.3) pay the same on every success and never reset."""
    if outcome == Outcome.SUCCESS:
        return f"{opening(reason, outcome)}{for_label(label)}: {count(amount, unit)}"
    return f"{opening(reason, outcome)}: no {unit}s; the next success{for_label(label)} earns {count(amount, unit)}"


@dataclass(frozen=True, slots=True)
class FixedWording:
    """The explainer of a fixed schedule's awards (docs/rules.md 4.3): Award.why is (this, the event's reason).

    The sentence says the schedule's amount, so it reads only the award's outcome (which a cut keeps)."""

    unit: str
    amount: int
    label: str

    def __call__(self, award: Award, reason: str) -> str:
        return fixed_text(self.unit, self.amount, self.label, reason, award.outcome)


class Wording:
    """The explainer of one history's escalating awards, with the repeated parts of its sentences remembered.

    Award.why is (this, the event's reason) for a success or a neutral event, and (this, reason, saved level) for
    a failure; the numbers of a success are the award's level, run, bonus and recovery, which a cut by a program
    limit keeps (engine/program.py words a cut award with the explainer of the award it was cut from). The awards
    of a long history repeat a few reasons and amounts, so each phrase is built once however many awards are read.
    Equal to another Wording of the same ladder and label (the remembered phrases are a cache, not a fact).
    """

    __slots__ = ("amounts", "failures", "label", "ladder", "neutrals", "openings", "raw_label")

    def __init__(self, ladder: Ladder, label: str) -> None:
        self.ladder = ladder
        self.raw_label = label
        self.label = for_label(label)
        self.failures: dict[tuple[str, int], str] = {}
        self.neutrals: dict[str, str] = {}
        self.openings: dict[str, tuple[str, str]] = {}
        self.amounts: dict[tuple[int, int, int, bool], str] = {}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Wording):
            return NotImplemented
        return self.ladder == other.ladder and self.raw_label == other.raw_label

    def __hash__(self) -> int:
        return hash((self.ladder, self.raw_label))

    def __call__(self, award: Award, reason: str, saved_level: int = 0) -> str:
        # What the schedule granted, from the facts a program limit never changes (level, run, bonus, recovery):
        # a cut award still says what was earned before it says what was cut.
        outcome = award.outcome
        if outcome == Outcome.SUCCESS:
            bonus = award.bonus_draws if self.ladder.unit == "draw" else award.bonus_points
            return self.success(reason, award.run, award.level, self.ladder.value(award.level), bonus, award.recovered)
        if outcome == Outcome.FAILURE:
            return self.failure(reason, saved_level)
        return self.neutral(reason)

    def success(self, reason: str, run: int, level: int, base: int, bonus: int, recovered: bool) -> str:
        head = self.openings.get(reason)
        if head is None:
            head = self.openings[reason] = self._opening(reason)
        key = (level, base, bonus, recovered)
        amount = self.amounts.get(key)
        if amount is None:
            amount = self.amounts[key] = amount_text(self.ladder, level, base, bonus, recovered)
        return f"{head[0]}, {ordinal(run)} in a row{head[1]}: {amount}"

    def _opening(self, reason: str) -> tuple[str, str]:
        # "Negative for stimulants, 2nd in a row", not "... in a row for stimulants" a second time.
        said = self.raw_label and self.raw_label in reason
        return opening(reason, Outcome.SUCCESS), "" if said else self.label

    def failure(self, reason: str, saved_level: int) -> str:
        key = (reason, saved_level)
        text = self.failures.get(key)
        if text is None:
            text = self.failures[key] = failure_text(self.ladder, self.raw_label, reason, saved_level)
        return text

    def neutral(self, reason: str) -> str:
        text = self.neutrals.get(reason)
        if text is None:
            text = self.neutrals[reason] = neutral_text(self.ladder.unit, self.raw_label, reason)
        return text
