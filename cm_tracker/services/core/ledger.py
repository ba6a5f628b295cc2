"""Reading the append-only ledger and serialising one enrollment's writes (balances and cap use, sums of these
entries, live in core.balances)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import String, bindparam, insert, select, type_coerce, update

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, EntryKind, EventType, LedgerEntry
from cm_tracker.services.core import chain
from cm_tracker.services.core.versions import try_claim

EARNING_KINDS = (EntryKind.AWARD, EntryKind.ADJUSTMENT, EntryKind.MANUAL)
ENGINE_KINDS = (EntryKind.AWARD, EntryKind.ADJUSTMENT)


@dataclass(frozen=True)
class Held:
    """What the ledger already holds for one event and target."""

    points: int
    draws: int
    value_cents: int


def lock_enrollment(enrollment_id: int) -> None:
    """Serialise every ledger write of one enrollment.

    The version bump is a write: on PostgreSQL it takes the row lock until commit; on SQLite it takes the database
    write lock at once (SQLAlchemy's with_for_update emits nothing there, docs/security.md). Any later check of the
    balance in the same transaction therefore sees every committed entry and no concurrent writer can slip in.
    """
    db.session.execute(
        update(Enrollment).where(Enrollment.id == enrollment_id).values(version=Enrollment.version + 1)
    )


def lock_enrollments(enrollment_ids: Iterable[int]) -> None:
    """lock_enrollment for many at once (a lab's file names hundreds of patients): one by one in id order, so two
    writers of overlapping sets cannot deadlock, with statements that leave the loaded objects alone (the ORM's
    synchronisation would scan the whole session once per enrolment); their `version` is read again when used."""
    for enrollment_id in sorted(set(enrollment_ids)):
        db.session.execute(_LOCK, {"enrollment_id": enrollment_id}, execution_options={"synchronize_session": False})
    for loaded in db.session.identity_map.values():
        if isinstance(loaded, Enrollment):
            db.session.expire(loaded, ["version"])


_LOCK = update(Enrollment).where(Enrollment.id == bindparam("enrollment_id")).values(version=Enrollment.version + 1)


def claim_enrollment(enrollment_id: int, version: int) -> bool:
    """lock_enrollment for a write computed before it locked: the version moves on only if it is still `version`,
    that is, if no other write of the enrollment committed since the caller read what it computed from. False means
    the caller must roll back and compute again; True holds the same lock as lock_enrollment until commit."""
    return try_claim(Enrollment, enrollment_id, version)


class LedgerRow(NamedTuple):
    """One entry of an enrollment's ledger as a write computes from it (a plain row, not an ORM object)."""

    id: int
    kind: str
    event_type: str | None
    event_id: int | None
    target_key: str | None
    points: int
    draws: int
    value_cents: int
    occurred_at: datetime | None
    created_at: datetime


# Built once: every desk entry reads its enrollment's ledger before it locks. On the table's columns, not the ORM
# entity's, so executing it skips the ORM's compile and result layers (the same columns, types and values) and its
# autoflush: enrollment_ledger flushes what is pending itself, so a row added but not flushed is still read. The kind
# and the event type come as the strings stored (as LedgerRow says): an enum member equals its value wherever a row
# is compared, and converting two values of each of an episode's entries was a tenth of reading them.
_l = LedgerEntry.__table__.c
_ENROLLMENT_LEDGER = select(
    _l.id, type_coerce(_l.kind, String).label("kind"), type_coerce(_l.event_type, String).label("event_type"),
    _l.event_id, _l.target_key, _l.points, _l.draws, _l.value_cents, _l.occurred_at, _l.created_at,
).where(_l.enrollment_id == bindparam("enrollment_id"))


def enrollment_ledger(enrollment_id: int) -> list[LedgerRow]:
    """Every entry of one enrollment, in one statement: what the engine's entries hold per event (`held_of`), the
    prizes and manual credits that use the cap, and the report cache's ledger totals all come from these rows."""
    db.session.flush()  # as the ORM's autoflush did before this statement on the table's columns (see above)
    return [LedgerRow(*row) for row in db.session.execute(_ENROLLMENT_LEDGER, {"enrollment_id": enrollment_id}).all()]


def enrollment_ledgers(enrollment_ids: Sequence[int]) -> dict[int, list[LedgerRow]]:
    """enrollment_ledger of many enrollments, in one statement (a lab's chunk re-evaluates dozens at once)."""
    found: dict[int, list[LedgerRow]] = {eid: [] for eid in enrollment_ids}
    if not found:
        return found
    db.session.flush()
    for enrollment_id, *row in db.session.execute(_ENROLLMENTS_LEDGER, {"ids": list(found)}).all():
        found[enrollment_id].append(LedgerRow(*row))
    return found


_ENROLLMENTS_LEDGER = select(_l.enrollment_id, *_ENROLLMENT_LEDGER.selected_columns).where(
    _l.enrollment_id.in_(bindparam("ids", expanding=True)))


def insert_entries(rows: Sequence[dict[str, Any]]) -> list[LedgerEntry]:
    """Post ledger entries (their column values, in the order to post them) by one plain INSERT, chained in their
    enrolments' lanes (core.chain.seal), and return them as entries holding what was stored, ids included. The
    caller holds the enrolments' locks.

    Not through the ORM: a desk entry posts one or two entries, and its flush (sorting the unit of work, the
    entries' attribute events, the chain listener's own pass) cost more than the INSERT. The entries returned are
    not in the session (a LedgerEntry has no relationship to load; the table is append-only), so nothing about them
    is flushed or expired. What the session holds unflushed is flushed first, so rows added before these are
    inserted and chained before them, as one flush would have done."""
    if not rows:
        return []
    db.session.flush()
    connection = db.session.connection()
    chain.seal(connection, chain.LEDGER, rows)
    ids = connection.execute(_INSERT_ENTRIES, rows).scalars().all()
    return [LedgerEntry(id=entry_id, **row) for entry_id, row in zip(ids, rows, strict=True)]


# Built once; RETURNING in the rows' order, so each id goes with its row.
_INSERT_ENTRIES = insert(LedgerEntry.__table__).returning(_l.id, sort_by_parameter_order=True)


def held_of(rows: Iterable[LedgerRow]) -> dict[tuple[str, int, str], Held]:
    """Engine entries already posted, summed per (event type, event id, target)."""
    sums: dict[tuple[str, int, str], list[int]] = {}
    for r in rows:
        if r.kind in ENGINE_KINDS and r.event_type is not None and r.event_id is not None:
            found = sums.setdefault((str(r.event_type), int(r.event_id), str(r.target_key)), [0, 0, 0])
            found[0] += r.points
            found[1] += r.draws
            found[2] += r.value_cents
    return {key: Held(*values) for key, values in sums.items()}


def held_by_event(enrollment_id: int) -> dict[tuple[str, int, str], Held]:
    """held_of the enrollment's ledger, read now."""
    return held_of(enrollment_ledger(enrollment_id))


def entries_for_event(event_type: EventType, event_id: int) -> Sequence[LedgerEntry]:
    return db.session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.event_type == event_type, LedgerEntry.event_id == event_id)
        .order_by(LedgerEntry.id)
    ).all()


def page_of_entries(patient_id: int, after_id: int | None, limit: int) -> Sequence[LedgerEntry]:
    """Entries oldest first, keyset-paginated by id."""
    query = select(LedgerEntry).where(LedgerEntry.patient_id == patient_id)
    if after_id is not None:
        query = query.where(LedgerEntry.id > after_id)
    return db.session.scalars(query.order_by(LedgerEntry.id).limit(limit)).all()
