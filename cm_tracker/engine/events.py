"""The engine's input and output records: one target's view of an event, and what it earned.

Events are taken in the order they happened (time, then key), never in the order they were typed
(docs/rules.md 3, last line), so a late entry or a correction changes exactly what a clinician working
from the paper record would.
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from operator import attrgetter, eq
from typing import Any, NamedTuple

from cm_tracker.engine.outcomes import Outcome


@dataclass(frozen=True, slots=True)
class TargetEvent:
    """What one event meant for one target.

    `key` identifies the event (e.g. ("specimen", 12)); it must sort against the other keys of the patient.
    `at` is the aware time the event happened and orders events; `on` is the clinic-local date, which
    places the event in a calendar week and a cap window. `bonus_success` marks a specimen also negative
    for the bonus analytes of a prize-draw schedule. `reason` is the classification's plain phrase.
    """

    key: Hashable
    at: datetime
    on: date
    outcome: Outcome
    bonus_success: bool = False
    reason: str = ""


# How an award's sentence is made: the sentence itself, or (explainer, *facts) where explainer(award, *facts) says
# it. Explainers compare by value (module functions, or objects equal by their schedule and label), so two awards
# built from the same facts are equal whichever evaluation built them.
Why = str | tuple[Any, ...]  # (Callable[..., str], *facts)


class Award(NamedTuple):
    """What one event earns for one target.

    `points` and `draws` include any bonus (`bonus_points`, `bonus_draws`); `level` is the escalation level
    paid (0 when nothing is paid); `run` the successes in a row after this event; `recovered` marks a success
    that restored the earlier value (docs/rules.md 4.1). `value_cents` is points x the program's point value
    (draws are valued when drawn, docs/rules.md 5); `capped` marks an award a program limit cut, and then the
    explanation says why.

    Immutable like the engine's other records, but a NamedTuple rather than a frozen dataclass: one Award
    is built per event each time a history is re-evaluated (docs/rules.md 6), and a tuple is built about four
    times faster (twice faster again through `build_award`), which keeps evaluation above 250,000 events per second.

    `explanation`, the sentence a patient reads, is made on first reading from `why` (see Why above): most awards
    of a re-evaluation are compared with the ledger and found unchanged, so only those posted or shown are ever
    put into words (cm_tracker/engine/explain.py). Equality and hashing compare `why` as data, never the text.
    """

    key: Hashable
    at: datetime
    on: date
    outcome: Outcome
    points: int
    draws: int
    level: int
    run: int
    bonus_points: int
    bonus_draws: int
    recovered: bool
    why: Why
    value_cents: int = 0
    capped: bool = False

    @property
    def explanation(self) -> str:
        """The award's sentence (docs/rules.md 7), made now from `why`; awards never read are never worded."""
        why = self.why
        if why.__class__ is str:
            return why  # type: ignore[return-value]
        return why[0](self, *why[1:])  # type: ignore[operator]


# Award(...) from a tuple of all 14 fields in order, without the Python-level __new__ that NamedTuple generates:
# build_award(Award, (key, at, ..., value_cents, capped)). For the engine's loops, which build one per event.
build_award = tuple.__new__


# Before program limits, an award is simply what the target's schedule grants.
TargetAward = Award

chronological = attrgetter("at", "key")


def in_order(events: Iterable[TargetEvent]) -> list[TargetEvent]:
    """Events in the order they happened: time, then key (docs/rules.md 3, last line).

    Sorted by time alone first, which builds no (time, key) pair per event; only when two events share a time does
    the key have to decide, and then the whole list is sorted by both."""
    ordered = sorted(events, key=_at)
    times = list(map(_at, ordered))
    if any(map(eq, times, islice(times, 1, None))):
        ordered.sort(key=chronological)
    return ordered


_at = attrgetter("at")
