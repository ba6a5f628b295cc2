"""Reading the append-only ledger and serialising one enrollment's writes (balances and cap use, sums of these
entries, live in core.balances)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, EntryKind, EventType, LedgerEntry

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


def enrollment_version(enrollment_id: int) -> int:
    """The enrollment's write version as committed now: read it before what a write is computed from."""
    return int(db.session.scalar(select(Enrollment.version).where(Enrollment.id == enrollment_id)) or 0)


def claim_enrollment(enrollment_id: int, version: int) -> bool:
    """lock_enrollment for a write computed before it locked: the version moves on only if it is still `version`,
    that is, if no other write of the enrollment committed since the caller read what it computed from. False means
    the caller must roll back and compute again; True holds the same lock as lock_enrollment until commit."""
    done = db.session.execute(update(Enrollment).where(Enrollment.id == enrollment_id, Enrollment.version == version)
                              .values(version=version + 1))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def held_by_event(enrollment_id: int) -> dict[tuple[str, int, str], Held]:
    """Engine entries already posted, summed per (event type, event id, target)."""
    rows = db.session.execute(
        select(
            LedgerEntry.event_type, LedgerEntry.event_id, LedgerEntry.target_key,
            func.sum(LedgerEntry.points), func.sum(LedgerEntry.draws), func.sum(LedgerEntry.value_cents),
        )
        .where(LedgerEntry.enrollment_id == enrollment_id, LedgerEntry.kind.in_(ENGINE_KINDS))
        .group_by(LedgerEntry.event_type, LedgerEntry.event_id, LedgerEntry.target_key)
    ).all()
    return {(str(t), int(i), str(k)): Held(int(p), int(d), int(v)) for t, i, k, p, d, v in rows}


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
