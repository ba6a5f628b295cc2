"""Re-evaluating an enrollment's whole history with the engine and posting the differences (docs/rules.md 6).

Every write that can change what a patient earned (a new result, a late entry, a correction, an excuse) ends here:
the engine computes the expected award of every event from the start; the ledger is compared per event and target;
only differences are posted, so re-evaluating an unchanged history posts nothing and a retried request posts
nothing twice.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any

from cm_tracker.engine.evaluate import NextPreview
from cm_tracker.engine.events import Award, TargetEvent
from cm_tracker.engine.program import CapSpend, ProgramEvaluation, evaluate_program, preview_program
from cm_tracker.engine.rules import ProgramRules
from cm_tracker.models import Enrollment, EntryKind, EventType, LedgerEntry, User
from cm_tracker.services.core.clinic import clinic_date
from cm_tracker.services.core.events import (
    ActivityRow,
    AttendanceRow,
    HistoryRows,
    SpecimenRow,
    events_for,
    events_from,
    events_of,
    history_and_versions,
    rules_for,
)
from cm_tracker.services.core.ledger import (
    Held,
    LedgerRow,
    enrollment_ledger,
    enrollment_ledgers,
    held_by_event,
    held_of,
    insert_entries,
)

EventKey = tuple[str, int]


def _spends(rows: Iterable[LedgerRow]) -> list[CapSpend]:
    """Value that counts against the cap but is not an engine award: prizes drawn and manual adjustments."""
    return [CapSpend(r.occurred_at or r.created_at, clinic_date(r.occurred_at or r.created_at), r.value_cents)
            for r in rows if r.kind in _SPENDING and r.value_cents != 0]


_SPENDING = (EntryKind.DRAW, EntryKind.MANUAL)


@dataclass(frozen=True)
class Snapshot:
    rules: ProgramRules
    events: dict[Hashable, list[TargetEvent]]
    spends: list[CapSpend]

    def evaluate(self) -> ProgramEvaluation:
        return evaluate_program(self.rules, self.events, self.spends)

    def preview(self, on: date) -> dict[Hashable, NextPreview]:
        return preview_program(self.rules, self.events, on, self.spends)


def snapshot(enrollment: Enrollment) -> Snapshot:
    rules = rules_for(enrollment.program)
    return Snapshot(rules, events_for(enrollment, rules), _spends(enrollment_ledger(enrollment.id)))


@dataclass(frozen=True)
class Prepared:
    """What re-evaluating an enrollment reads, read before the write takes the enrollment's lock.

    A write computes first and locks after (docs/architecture.md, "Writes"): it reads `version`, then the history
    and the ledger; ledger.claim_enrollment(enrollment.id, version) then succeeds only if no other write of the
    enrollment committed in between, so what was read is still what the database holds, and only the rows the
    write itself adds or changes need to be turned into events again (`with_rows`), in memory."""

    enrollment: Enrollment
    version: int
    snapshot: Snapshot
    held: dict[tuple[str, int, str], Held]
    rows: HistoryRows  # what the events were made from (the report cache takes their facts)
    ledger: list[LedgerRow]  # every entry of the enrollment (the report cache takes its totals)

    def with_rows(self, specimens: Sequence[SpecimenRow] = (), attendance: Sequence[AttendanceRow] = (),
                  activities: Sequence[ActivityRow] = ()) -> Snapshot:
        """The history as read, with the events of these rows (new or changed) in place of any they had."""
        fresh = events_from(self.snapshot.rules, specimens, attendance, activities)
        # Every row's old events go, even a row that makes no event now (an activity no longer verified).
        keys = {("specimen", r.id) for r in specimens} | {("attendance", r.id) for r in attendance}
        keys |= {("activity", r.id) for r in activities}
        events: dict[Hashable, list[TargetEvent]] = {
            target: [e for e in found if e.key not in keys] for target, found in self.snapshot.events.items()}
        for target, found in fresh.items():
            events.setdefault(target, []).extend(found)
        return Snapshot(self.snapshot.rules, events, self.snapshot.spends)


def prepare(enrollment: Enrollment) -> Prepared:
    """Read the version with the history (one statement), then the ledger; nothing is written."""
    histories, versions = history_and_versions([enrollment.id])
    version, rows = versions[enrollment.id], histories[enrollment.id]
    rules = rules_for(enrollment.program)
    ledger = enrollment_ledger(enrollment.id)
    return Prepared(enrollment, version, Snapshot(rules, events_of(rules, rows), _spends(ledger)), held_of(ledger),
                    rows, ledger)


def prepare_many(enrollments: Sequence[Enrollment]) -> dict[int, Prepared]:
    """`prepare` of many enrollments, by id, in a fixed handful of statements whatever their number (a lab's chunk
    re-evaluates dozens of enrollments at once); each the same as `prepare` would read."""
    ids = [e.id for e in enrollments]
    rows, versions = history_and_versions(ids)
    ledgers = enrollment_ledgers(ids)
    rules: dict[int, ProgramRules] = {}
    prepared: dict[int, Prepared] = {}
    for enrollment in enrollments:
        if enrollment.program_id not in rules:
            rules[enrollment.program_id] = rules_for(enrollment.program)
        own, ledger = rows[enrollment.id], ledgers[enrollment.id]
        prepared[enrollment.id] = Prepared(
            enrollment, versions[enrollment.id],
            Snapshot(rules[enrollment.program_id], events_of(rules[enrollment.program_id], own), _spends(ledger)),
            held_of(ledger), own, ledger)
    return prepared


def post_differences(
    enrollment: Enrollment,
    evaluation: ProgramEvaluation,
    *,
    because: str,
    actor: User | None,
    held: dict[tuple[str, int, str], Held] | None = None,
) -> list[LedgerEntry]:
    """Post an award for each event seen for the first time and an adjustment for each that now earns otherwise.

    `because` says why a re-evaluation happened (a correction's reason, a late entry), for the adjustments' text;
    `held` is what the ledger holds per event, when the caller read it already (Prepared).
    """
    held = held_by_event(enrollment.id) if held is None else held
    # The entries first, then their order: a desk entry re-evaluates every event of the episode and posts for one or
    # two of them, so only those are sorted (the same order as sorting all the awards first).
    found: list[tuple[tuple[object, ...], dict[str, Any]]] = []
    for (target_key, event_key), award in evaluation.awards.items():
        event_type, event_id = event_key
        was = held.get((event_type, event_id, str(target_key)))
        if was is not None and (was.points, was.draws, was.value_cents) == (award.points, award.draws,
                                                                             award.value_cents):
            continue  # unchanged, the common case: nothing built
        found.append((_order(award), _entry_for(enrollment, str(target_key), event_type, event_id, award, was,
                                                because, actor)))
    found.sort(key=itemgetter(0))
    return insert_entries([entry for _, entry in found])


def _order(award: Award) -> tuple[object, ...]:
    return (award.at, award.key)


def _entry_for(enrollment: Enrollment, target_key: str, event_type: str, event_id: int, award: Award,
               held: Held | None, because: str, actor: User | None) -> dict[str, Any]:
    """The column values of the award of an event seen for the first time, or of the adjustment of one that now
    earns otherwise than `held` (post_differences skips the unchanged)."""
    common = {
        "patient_id": enrollment.patient_id, "enrollment_id": enrollment.id, "target_key": target_key,
        "event_type": EventType(event_type), "event_id": event_id, "occurred_at": award.at,
        "created_by_id": actor.id if actor else None,
    }
    if held is None:
        return {"kind": EntryKind.AWARD, "points": award.points, "draws": award.draws,
                "value_cents": award.value_cents, "reason": award.explanation, **common}
    was = _amount(held.points, held.draws)
    reason = f"Correction ({because}): {award.explanation}. Was {was}, now {_amount(award.points, award.draws)}."
    return {"kind": EntryKind.ADJUSTMENT, "points": award.points - held.points, "draws": award.draws - held.draws,
            "value_cents": award.value_cents - held.value_cents, "reason": reason, **common}


def _amount(points: int, draws: int) -> str:
    parts = []
    if points or not draws:
        parts.append(f"{points} point{'s' if points != 1 else ''}")
    if draws:
        parts.append(f"{draws} draw{'s' if draws != 1 else ''}")
    return " and ".join(parts)


@dataclass(frozen=True)
class Reevaluated:
    """The evaluation of the whole history, the entries it posted (empty when nothing differed) and the snapshot it
    evaluated (for the stored state)."""

    evaluation: ProgramEvaluation
    posted: list[LedgerEntry]
    snapshot: Snapshot


def reevaluate(enrollment: Enrollment, *, because: str, actor: User | None, taken: Snapshot | None = None,
               held: dict[tuple[str, int, str], Held] | None = None) -> Reevaluated:
    """Evaluate the whole history again and post what differs; the caller holds the enrollment lock and commits.

    `taken` and `held` are the history and the ledger when the caller read them before it locked (Prepared);
    otherwise they are read now. Use cases call usecases.reevaluation.reevaluate_and_refresh, which also rebuilds
    the report cache from the same evaluation."""
    taken = taken or snapshot(enrollment)
    evaluation = taken.evaluate()
    posted = post_differences(enrollment, evaluation, because=because, actor=actor, held=held)
    return Reevaluated(evaluation, posted, taken)


def awards_of_event(entries: Sequence[LedgerEntry]) -> list[dict[str, object]]:
    return [{"target": e.target_key, "points": e.points, "draws": e.draws, "reason": e.reason} for e in entries]
