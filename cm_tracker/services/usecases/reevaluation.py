"""Re-evaluating an enrollment from a use case: the differences posted, the report cache rebuilt and the targets'
state stored, all from the same evaluation, in the caller's transaction.

Every use case that can change what a patient earned (a new result, a late entry, a correction, an excuse, an
activity's verdict) re-evaluates through here, never through core.evaluation.reevaluate alone, so the reports and
the stored state never lag the ledger. The cache is written from this tier, above both the evaluation and the
report queries, so neither imports the other (tests/test_architecture.py).

Two ways in: `reevaluate_and_refresh` alone reads and evaluates under the lock the caller already holds; the desk's
writes instead go through `attempts` and `claim` (docs/architecture.md, "Writes: compute, then lock"), so
everything is read before the lock and the lock is held only while they write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Row

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, LedgerEntry, User
from cm_tracker.services.core import chain, evaluation
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.evaluation import Snapshot, reevaluate
from cm_tracker.services.core.events import ActivityRow, AttendanceRow, SpecimenRow
from cm_tracker.services.core.ledger import claim_enrollment, lock_enrollment
from cm_tracker.services.core.target_states import store_states, stored_states, stored_states_many
from cm_tracker.services.queries.reports.cache import (
    CacheRead,
    facts_of_rows,
    read_cache,
    read_caches,
    refresh_outcomes,
)

# How often a write computed before it locked starts again because another write of the same enrollment committed
# first; after that it locks first and reads under the lock, as a write did before, so it always gets through.
OPTIMISTIC_ATTEMPTS = 3

__all__ = ["Prepared", "attempts", "claim", "prepare_many", "reevaluate_and_refresh"]


@dataclass(frozen=True)
class Prepared:
    """Everything a re-evaluation of the enrollment reads: its history and ledger (core.evaluation.prepare, which
    reads the version first), its report cache and its stored state."""

    history: evaluation.Prepared
    cache: CacheRead
    states: Mapping[str, Row[Any]]  # core.target_states.stored_states
    # Read under the enrollment's lock already (the last attempt, after others lost the race): nothing to claim.
    locked: bool = False

    @property
    def enrollment(self) -> Enrollment:
        return self.history.enrollment

    @property
    def snapshot(self) -> Snapshot:
        return self.history.snapshot


def _prepare(enrollment: Enrollment) -> Prepared:
    # Where this connection's audit lane is, if it does not know (core.chain): the write's audit row then needs no
    # read under the lock.
    chain.remember_audit_head(db.session.connection())
    history = evaluation.prepare(enrollment)
    rows = history.rows
    cache = read_cache(enrollment.id, facts=facts_of_rows(rows.specimens, rows.attendance, rows.activities),
                       ledger=history.ledger)
    return Prepared(history, cache, stored_states(enrollment.id))


def prepare_many(enrollments: Sequence[Enrollment], *, locked: bool = False) -> dict[int, Prepared]:
    """`_prepare` of many enrollments, by id, in a fixed handful of statements whatever their number (a lab's chunk
    re-evaluates dozens at once); `locked` when the caller holds their locks already (nothing to claim)."""
    histories = evaluation.prepare_many(enrollments)
    ids = list(histories)
    caches = read_caches(ids, ledgers={eid: h.ledger for eid, h in histories.items()},
                         facts={eid: facts_of_rows(h.rows.specimens, h.rows.attendance, h.rows.activities)
                                for eid, h in histories.items()})
    states = stored_states_many(ids)
    return {eid: Prepared(history, caches[eid], states[eid], locked) for eid, history in histories.items()}


def attempts(enrollment: Enrollment) -> Iterator[Prepared]:
    """What to compute a write from, once per attempt: the caller reads and checks what it needs, then `claim`s;
    if the claim fails it goes on to the next attempt (this rolls back first). The last attempt is read under the
    enrollment's lock, so its claim cannot fail:

        for prepared in attempts(enrollment):
            ...  # reads and checks, no writes
            if claim(prepared):
                break
        ...  # the writes
    """
    for _ in range(OPTIMISTIC_ATTEMPTS):
        yield _prepare(enrollment)
        db.session.rollback()
    lock_enrollment(enrollment.id)
    yield replace(_prepare(enrollment), locked=True)


def claim(prepared: Prepared) -> bool:
    """Lock the enrollment if nothing changed it since `prepared` was read (core.ledger.claim_enrollment)."""
    return prepared.locked or claim_enrollment(prepared.enrollment.id, prepared.history.version)


def reevaluate_and_refresh(enrollment: Enrollment, *, because: str, actor: User | None,
                           prepared: Prepared | None = None, specimens: Sequence[SpecimenRow] = (),
                           attendance: Sequence[AttendanceRow] = (),
                           activities: Sequence[ActivityRow] = ()) -> list[LedgerEntry]:
    """Post what the whole history now earns differently, rewrite the enrollment's cached outcomes and store its
    targets' state (core.target_states); the caller holds the enrollment lock and commits.

    With `prepared` (claimed), nothing is read again: the history is the one read before the lock, with the events
    of the rows this write added or changed (`specimens`, `attendance`, `activities`, flushed so they have ids)."""
    if prepared is None:
        done = reevaluate(enrollment, because=because, actor=actor)
        refresh_outcomes(enrollment, done.evaluation)
        store_states(enrollment, done.snapshot.rules, done.evaluation, done.snapshot.events, clinic_today())
        return done.posted
    taken = prepared.history.with_rows(specimens, attendance, activities)
    done = reevaluate(enrollment, because=because, actor=actor, taken=taken, held=prepared.history.held)
    refresh_outcomes(enrollment, done.evaluation, prepared.cache,
                     changed=facts_of_rows(specimens, attendance, activities), posted=done.posted)
    store_states(enrollment, taken.rules, done.evaluation, taken.events, prepared.cache.today, prepared.states)
    return done.posted
