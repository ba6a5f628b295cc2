"""The sentences awards carry, so a patient can read what they earned and why (docs/rules.md section 7).

Example: "Negative for cocaine, 4th in a row for stimulants: 25 points (10 + 3 x 5)".
"""

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


class Wording:
    """Success sentences for one history, with their repeated parts remembered.

    The awards of a long history repeat a few reasons and amounts; building each phrase once keeps
    re-evaluation fast (the engine re-evaluates whole histories after every correction, docs/rules.md 6).
    """

    def __init__(self, ladder: Ladder, label: str) -> None:
        self.ladder = ladder
        self.raw_label = label
        self.label = for_label(label)
        self.failures: dict[tuple[str, int], str] = {}
        self.neutrals: dict[str, str] = {}
        self.openings: dict[str, tuple[str, str]] = {}
        self.amounts: dict[tuple[int, int, int, bool], str] = {}

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
