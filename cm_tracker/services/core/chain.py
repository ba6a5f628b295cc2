"""The tamper-evident chain over the audit trail and the ledger (docs/security.md "Tamper-evident chain").

Every row of `audit_events` and `ledger_entries` carries its lane, its place in the lane (`chain_seq`, from 1) and
`chain_hmac` = HMAC-SHA256(AUDIT_CHAIN_KEY, previous row's link || the row's canonical content), computed before its
INSERT in the transaction that writes it, so the runtime role never updates a chained row. Several chains, so that
unrelated writers do not wait for each other:

- the ledger has a lane per enrolment (lane = its id): every ledger write already holds the enrolment's lock
  (`core.ledger`), so the lane's head row costs no extra waiting;
- the audit trail has AUDIT_LANES lanes (1..16): a writer takes the first lane no other transaction holds
  (PostgreSQL's `FOR UPDATE SKIP LOCKED`, starting from a lane of its own thread), so concurrent requests of several
  workers each write their own lane; lane 0 holds the rows the migration chained after the fact.

Each lane's head (`chain_heads`) moves in the same transaction: one UPDATE takes the places (and the row lock, until
commit), one more sets the new link; a flush's rows of one lane take their places together, so a lab file's hundreds
of entries cost two statements per enrolment, not per row. A rolled-back transaction or SAVEPOINT takes its head back
with its rows. ORM rows are chained by a `before_flush` listener; rows written by a plain INSERT call `seal`.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, event, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cm_tracker.extensions import db
from cm_tracker.models import AuditEvent, ChainHead, LedgerEntry
from cm_tracker.services.core.context import chain_key

AUDIT = "audit_events"
LEDGER = "ledger_entries"
AUDIT_LANES = 16
HISTORY_LANE = 0  # the audit rows written before the chain began, chained in id order by the migration

# What each row's HMAC covers: every column but the id (a row's address, assigned by the INSERT) and the chain's own.
# Spelled out rather than read from the model, so that a column added later is a decision (tests/chain checks that
# every column is here or deliberately left out) and never silently changes the content of rows chained before it.
# The migration that chained the existing rows holds the same lists and the same canonical form.
CHAINED: dict[str, tuple[str, ...]] = {
    AUDIT: ("occurred_at", "user_id", "username", "role", "action", "patient_id", "patient_ids", "object_type",
            "object_id", "outcome", "source_address", "detail"),
    LEDGER: ("patient_id", "enrollment_id", "created_at", "kind", "target_key", "points", "draws", "value_cents",
             "reason", "event_type", "event_id", "occurred_at", "redemption_id", "draw_id", "created_by_id"),
}
CHAIN_COLUMNS = ("chain_lane", "chain_seq", "chain_hmac")
_TABLES: dict[str, Table] = {AUDIT: AuditEvent.__table__, LEDGER: LedgerEntry.__table__}
_heads = ChainHead.__table__


def canonical(table: str, lane: int, seq: int, values: Mapping[str, Any]) -> bytes:
    """The bytes a row's HMAC covers: its table, lane and place, and its chained columns in order, as JSON."""
    plain = [table, lane, seq, *(_plain(values.get(name)) for name in CHAINED[table])]
    return json.dumps(plain, separators=(",", ":"), sort_keys=True, ensure_ascii=True).encode()


def _plain(value: Any) -> Any:
    """A value as it reads back from either database: times as UTC to the microsecond, enums by their value, JSON as
    JSON gives it back (tuples are lists, keys are strings)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dict, list, tuple)):
        return json.loads(json.dumps(value))
    return value


def link_of(key: bytes, previous: str, table: str, lane: int, seq: int, values: Mapping[str, Any]) -> str:
    return hmac.new(key, previous.encode() + b"\n" + canonical(table, lane, seq, values), hashlib.sha256).hexdigest()


def seal(connection: Connection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Chain rows about to be inserted by a plain INSERT, in their order: fill the defaults their INSERT would take
    (so the HMAC covers what is stored) and set their chain columns. Ledger rows go to their enrolments' lanes, audit
    rows to one free lane."""
    for row in rows:
        for name in CHAINED[table]:
            if name not in row and (default := _default(table, name)) is not None:
                row[name] = default
    _set_links(connection, _chain(connection, table, rows, lambda row, name: row.get(name), dict.__setitem__))


def _chain(connection: Connection, table: str, rows: Sequence[Any], get: Any, put: Any) -> list[dict[str, Any]]:
    """Give each row its lane, place and link; the new links of the lanes' heads, for `_set_links`."""
    if not rows:
        return []
    key = chain_key()
    lanes: dict[int, list[Any]] = {}
    if table == LEDGER:
        for row in rows:
            lanes.setdefault(int(get(row, "enrollment_id")), []).append(row)
    links = []
    for lane, found in sorted(lanes.items()) if table == LEDGER else [(None, list(rows))]:
        lane, seq, previous = _advance(connection, table, lane, len(found))
        for row in found:
            seq += 1
            previous = link_of(key, previous, table, lane, seq, {n: get(row, n) for n in CHAINED[table]})
            for name, value in zip(CHAIN_COLUMNS, (lane, seq, previous), strict=True):
                put(row, name, value)
        links.append({"c": table, "l": lane, "new_link": previous})
    return links


def _set_links(connection: Connection, links: list[dict[str, Any]]) -> None:
    """Every head a flush moved, in one executemany."""
    if links:
        connection.execute(_SET_LINK, links)


_SET_LINK = update(_heads).where(_heads.c.chain == bindparam("c"), _heads.c.lane == bindparam("l")).values(
    link=bindparam("new_link"))
_ADVANCE = (update(_heads).where(_heads.c.chain == bindparam("c"), _heads.c.lane == bindparam("l"))
            .values(sequence=_heads.c.sequence + bindparam("n")).returning(_heads.c.sequence, _heads.c.link))
# The first audit lane no other transaction holds, starting from this thread's own: on SQLite, one writer at a time,
# simply this thread's lane.
_FREE_LANE = (select(_heads.c.lane).where(_heads.c.chain == AUDIT, _heads.c.lane > HISTORY_LANE)
              .order_by((_heads.c.lane + bindparam("shift")) % AUDIT_LANES).limit(1)
              .with_for_update(skip_locked=True).scalar_subquery())
_ADVANCE_FREE = (update(_heads).where(_heads.c.chain == AUDIT, _heads.c.lane == _FREE_LANE)
                 .values(sequence=_heads.c.sequence + bindparam("n"))
                 .returning(_heads.c.lane, _heads.c.sequence, _heads.c.link))


def _advance(connection: Connection, table: str, lane: int | None, count: int) -> tuple[int, int, str]:
    """Take `count` places in a lane (an audit lane of our choosing when `lane` is None) under its row lock: the
    lane, the place before the first taken and the link the first row is chained to."""
    if lane is None:
        shift = _thread_shift()
        found = connection.execute(_ADVANCE_FREE, {"n": count, "shift": shift}).first()
        if found is not None:
            return int(found.lane), int(found.sequence) - count, str(found.link)
        lane = (AUDIT_LANES - shift) % AUDIT_LANES or AUDIT_LANES  # all busy (or none made yet): wait for ours
    found = connection.execute(_ADVANCE, {"c": table, "l": lane, "n": count}).first()
    if found is None:  # a lane's first row (an enrolment's first entry; a database the migration did not chain)
        _make_heads(connection, table, lane)
        found = connection.execute(_ADVANCE, {"c": table, "l": lane, "n": count}).one()
    return lane, int(found.sequence) - count, str(found.link)


def _make_heads(connection: Connection, table: str, lane: int) -> None:
    """The lane's head, and for the audit trail every lane's, unless another writer made them meanwhile."""
    lanes = range(1, AUDIT_LANES + 1) if table == AUDIT else (lane,)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_heads).on_conflict_do_nothing(index_elements=["chain", "lane"])
    connection.execute(statement, [{"chain": table, "lane": n, "sequence": 0, "link": ""} for n in lanes])


def _thread_shift() -> int:
    """Where this thread starts looking for a free audit lane: spread over the lanes by process and thread, so
    that a worker's requests usually find the lane they used last free."""
    return hash((os.getpid(), threading.get_ident())) % AUDIT_LANES


def _default(table: str, name: str) -> Any:
    default = _TABLES[table].c[name].default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]


def _chain_pending(session: Session, _context: Any, _instances: Any) -> None:
    """Chain the ledger and audit rows this flush inserts, in the order they were added."""
    pending = [obj for obj in session.new if isinstance(obj, (LedgerEntry, AuditEvent))]
    if not pending:
        return
    pending.sort(key=lambda obj: inspect(obj).insert_order)
    connection = session.connection()
    links: list[dict[str, Any]] = []
    for model, table in ((LedgerEntry, LEDGER), (AuditEvent, AUDIT)):
        rows = [obj for obj in pending if isinstance(obj, model)]
        for obj in rows:
            state = inspect(obj).dict
            for name in CHAINED[table]:
                if name not in state and (default := _default(table, name)) is not None:
                    setattr(obj, name, default)
        links += _chain(connection, table, rows, getattr, setattr)
    _set_links(connection, links)


if not event.contains(db.session, "before_flush", _chain_pending):
    event.listen(db.session, "before_flush", _chain_pending)
