"""The tamper-evident chain over the audit trail and the ledger (docs/security.md "Tamper-evident chain").

Every row of `audit_events` and `ledger_entries` carries its lane, its place in the lane (`chain_seq`, from 1) and
`chain_hmac` = HMAC-SHA256(AUDIT_CHAIN_KEY, previous row's link || the row's canonical content), computed before its
INSERT in the transaction that writes it, so the runtime role never updates a chained row. Several chains, so that
unrelated writers do not wait for each other:

- the ledger has a lane per enrolment (lane = its id): every ledger write already holds the enrolment's lock
  (`core.ledger`), so the lane's head row costs no extra waiting;
- the audit trail has lanes 1, 2, 3, ...: on PostgreSQL each connection holds a lane of its own for as long as it
  lives (a session advisory lock, so no other connection writes it) and keeps its head in memory, so that a read's
  audit row is one INSERT, which checks the head is still where the connection left it (else the head is read again
  and the row written again); on SQLite, where one connection writes at a time, a thread's own lane of 1..16, and a
  read's row is one INSERT ... SELECT that takes its place and link from the head (the link computed by a function
  registered on the SQLite connection); lane 0 holds the rows the migration chained after the fact.

Each lane's head (`chain_heads`) moves with its rows: a trigger on the chained table sets it to the last place and
link an INSERT wrote (models/chain.py), in the same transaction, so a rolled-back transaction or SAVEPOINT takes its
head back with its rows. A writer of several rows takes their places first (one UPDATE of the head, under its row
lock until commit: a lab file's hundreds of entries cost one statement per enrolment, not per row). ORM rows are
chained by a `before_flush` listener; rows written by a plain INSERT call `seal`, and a read's audit rows go through
`insert_audit`.
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

from sqlalchemy import Connection, Table, bindparam, cast, event, exists, func, insert, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cm_tracker.extensions import db
from cm_tracker.models import AuditEvent, ChainHead, LedgerEntry
from cm_tracker.services.core.context import chain_key

AUDIT = "audit_events"
LEDGER = "ledger_entries"
AUDIT_LANES = 16  # SQLite's lanes (the migration also made 1..16 on PostgreSQL, where lanes are per connection)
MAX_AUDIT_LANES = 4096  # on PostgreSQL a lane per connection: far more than any server's max_connections
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
    return _joined(table, lane, seq, content(table, values))


def content(table: str, values: Mapping[str, Any]) -> str:
    """The chained columns' part of the canonical form: the JSON list of their values."""
    plain = [value if type(value) in _AS_STORED else _plain(value) for value in map(values.get, CHAINED[table])]
    return _JSON.encode(plain)


# What json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=True) builds on every call, built once:
# the same bytes, without a new encoder for each of the hundreds of thousands of rows a scaled build or a
# verification hashes.
_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=True)


# Values that read back from either database as they were written (most of a row): `_plain` has nothing to do. By
# exact type, so that a bool or an enum derived from int or str still goes through it.
_AS_STORED = frozenset({str, int, type(None)})


def _joined(table: str, lane: int, seq: int, values_json: str) -> bytes:
    """The JSON of [table, lane, seq, *values], from the values' JSON: json.dumps writes a list as "[" + its items
    joined by "," + "]", so this is byte for byte what dumping the whole list gives (and what the migration wrote)."""
    return f'["{table}",{int(lane)},{int(seq)},'.encode() + values_json[1:].encode()


def _plain(value: Any) -> Any:
    """A value as it reads back from either database: times as UTC to the microsecond, enums by their value, JSON as
    JSON gives it back (tuples are lists, keys are strings)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return _utc_text(aware.astimezone(UTC))
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dict, list, tuple)):
        return json.loads(json.dumps(value))
    return value


def _utc_text(moment: datetime) -> str:
    """strftime("%Y-%m-%dT%H:%M:%S.%fZ") of a UTC time, by %-formatting: less than half strftime's cost, and about
    0.6 of an f-string's (a ledger row has two times). The C library writes a year below 1000 unpadded, so such a
    year keeps strftime, and the text stays byte for byte what every existing row's link was made from."""
    if moment.year < 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, moment.microsecond)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % fields  # noqa: UP031


def link_of(key: bytes, previous: str, table: str, lane: int, seq: int, values: Mapping[str, Any]) -> str:
    return _link(key, previous, canonical(table, lane, seq, values))


def _link(key: bytes, previous: str, canonical_form: bytes) -> str:
    return hmac.new(key, previous.encode() + b"\n" + canonical_form, hashlib.sha256).hexdigest()


def seal(connection: Connection, table: str, rows: Sequence[dict[str, Any]], *, new_lanes: bool = False) -> None:
    """Chain rows about to be inserted by a plain INSERT, in their order: fill the defaults their INSERT would take
    (so the HMAC covers what is stored) and set their chain columns. Ledger rows go to their enrolments' lanes, audit
    rows to this connection's lane.

    With `new_lanes` (ledger rows of enrolments made in this transaction, as `flask demo scale` writes them) every
    lane's head is made by one INSERT for all of them, at its last place, instead of three statements a lane; a lane
    that exists already makes that INSERT fail, so a caller's mistake cannot fork a chain."""
    if new_lanes and table != LEDGER:
        raise ValueError("only ledger lanes (one per enrolment) can be new to a caller")
    _fill_defaults(table, rows)
    _chain(connection, table, rows, lambda row, name: row.get(name), dict.__setitem__, new_lanes=new_lanes)


def insert_audit(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Chain and insert audit rows (a read's, written on nearly every request) in one statement each: on
    PostgreSQL from the head this connection's lane keeps in memory, on SQLite from the head read by the INSERT
    itself. The head moves by the table's trigger."""
    if not rows:
        return
    _fill_defaults(AUDIT, rows, every=True)
    if connection.dialect.name == "postgresql":
        _insert_audit_postgres(connection, rows)
    else:
        _insert_audit_sqlite(connection, rows)


def _fill_defaults(table: str, rows: Sequence[dict[str, Any]], *, every: bool = False) -> None:
    """Each chained column the rows leave out, as its INSERT would fill it (and with `every`, None where it has no
    default: an INSERT ... SELECT names every column)."""
    for row in rows:
        for name, default in _DEFAULTS[table]:
            if name not in row:
                value = None if default is None else default.arg(None) if default.is_callable else default.arg
                if value is not None or every:
                    row[name] = value


def _chain(connection: Connection, table: str, rows: Sequence[Any], get: Any, put: Any, *,
           new_lanes: bool = False) -> None:
    """Give each row its lane, place and link, having taken the places in the lane's head (whose trigger sets its
    link when the last row is inserted)."""
    if not rows:
        return
    key = chain_key()
    lanes: dict[int, list[Any]] = {}
    if table == LEDGER:
        for row in rows:
            lanes.setdefault(int(get(row, "enrollment_id")), []).append(row)
    else:
        lanes[_audit_lane(connection)] = list(rows)
    if new_lanes:
        connection.execute(insert(_heads), [{"chain": table, "lane": lane, "sequence": len(found), "link": ""}
                                            for lane, found in lanes.items()])
    for lane, found in sorted(lanes.items()):
        seq, previous = (0, "") if new_lanes else _advance(connection, table, lane, len(found))
        for row in found:
            seq += 1
            values = row if isinstance(row, dict) else {n: get(row, n) for n in CHAINED[table]}
            previous = link_of(key, previous, table, lane, seq, values)
            for name, value in zip(CHAIN_COLUMNS, (lane, seq, previous), strict=True):
                put(row, name, value)
        if table == AUDIT and connection.dialect.name == "postgresql":
            # Where this flush leaves the connection's own lane: the next read's row is chained to it without a read.
            connection.info[_HEAD] = (seq, previous)


_ADVANCE = (update(_heads).where(_heads.c.chain == bindparam("c"), _heads.c.lane == bindparam("l"))
            .values(sequence=_heads.c.sequence + bindparam("n")).returning(_heads.c.sequence, _heads.c.link))
_READ_HEAD = select(_heads.c.sequence, _heads.c.link).where(_heads.c.chain == AUDIT, _heads.c.lane == bindparam("l"))
# A session advisory lock per lane, in a key space of its own (the first key; the lane is the second).
_LOCK_SPACE = 0x636D  # "cm"
_TRY_LANE = text("SELECT pg_try_advisory_lock(:space, :lane)")
# Keys of the DBAPI connection's `info` (kept while the connection lives, across checkouts from the pool).
_LANE = "cm_tracker.chain.audit_lane"
_HEAD = "cm_tracker.chain.audit_head"  # (place, link) of the lane's last row as this connection last wrote it
_FUNCTION = "cm_tracker.chain.sqlite_function"
_UNMADE = "cm_tracker.chain.audit_head_unmade"  # the lane whose head remember_audit_head found missing


def _advance(connection: Connection, table: str, lane: int, count: int) -> tuple[int, str]:
    """Take `count` places in a lane under its row lock: the place before the first taken and the link the first
    row is chained to."""
    found = connection.execute(_ADVANCE, {"c": table, "l": lane, "n": count}).first()
    if found is None:  # a lane's first row (an enrolment's first entry; a database the migration did not chain)
        _make_heads(connection, table, lane)
        found = connection.execute(_ADVANCE, {"c": table, "l": lane, "n": count}).one()
    return int(found.sequence) - count, str(found.link)


def _make_heads(connection: Connection, table: str, lane: int) -> None:
    """The lane's head, unless another writer made it meanwhile. Only the lane's own: a PostgreSQL connection's
    audit lane is then made by the connection that holds it, so a transaction that reads from a snapshot (`flask
    audit verify`) sees its lane's head whenever it exists."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_heads).on_conflict_do_nothing(index_elements=["chain", "lane"])
    connection.execute(statement, {"chain": table, "lane": lane, "sequence": 0, "link": ""})


def _audit_lane(connection: Connection) -> int:
    """This writer's audit lane: on SQLite its thread's; on PostgreSQL the lane its connection holds, taken the
    first time it writes an audit row (the first lane no other connection holds)."""
    if connection.dialect.name != "postgresql":
        shift = hash((os.getpid(), threading.get_ident())) % AUDIT_LANES
        return (AUDIT_LANES - shift) % AUDIT_LANES or AUDIT_LANES
    info = connection.info
    lane = info.get(_LANE)
    if lane is None:
        lane = next((n for n in range(1, MAX_AUDIT_LANES + 1)
                     if connection.execute(_TRY_LANE, {"space": _LOCK_SPACE, "lane": n}).scalar()), None)
        if lane is None:
            raise RuntimeError(f"every one of the {MAX_AUDIT_LANES} audit lanes is held by another connection")
        info[_LANE] = lane
        info.pop(_HEAD, None)
    return int(lane)


def _insert_audit_postgres(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Each row chained to the head this connection keeps, by an INSERT that writes it only if the head is still
    there (a transaction of ours that rolled back, or a head changed by hand, leaves it elsewhere): if it is not,
    the head is read and the row written again."""
    key, lane = chain_key(), _audit_lane(connection)
    if connection.info.pop(_UNMADE, None) == lane:
        _make_heads(connection, AUDIT, lane)
    for row in rows:
        for attempt in range(2):
            head = connection.info.get(_HEAD) if attempt == 0 else None
            if head is None:
                head = _audit_head(connection, lane)
            seq, previous = head[0] + 1, head[1]
            link = _link(key, previous, _joined(AUDIT, lane, seq, content(AUDIT, row)))
            values = {**{v: row[n] for n, v in _PARAMETERS}, "lane": lane, "seq": seq, "link": link,
                      "previous_seq": head[0], "previous_link": previous}
            # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... SELECT that fires a statement trigger.
            if connection.execute(_POSTGRES_INSERT, values).first() is not None:
                row.update(chain_lane=lane, chain_seq=seq, chain_hmac=link)
                connection.info[_HEAD] = (seq, link)
                break
            connection.info.pop(_HEAD, None)
        else:
            raise RuntimeError(f"audit lane {lane} moved while this connection held it")


def remember_audit_head(connection: Connection) -> None:
    """On PostgreSQL, take this connection's audit lane and read where its head is, unless the connection remembers
    it: a write that reads everything before it locks (usecases.reevaluation) calls this first, so that its audit
    row is one INSERT under the lock (`insert_audit`), with no read there. Nothing is written: a lane with no head yet
    gets one from the write, once in the lane's life. On SQLite the INSERT reads the head itself."""
    if connection.dialect.name != "postgresql" or connection.info.get(_HEAD) is not None:
        return
    lane = _audit_lane(connection)
    found = connection.execute(_READ_HEAD, {"l": lane}).first()
    if found is None:  # the lane's first row: its head is made (an INSERT) by the write, as its first place
        connection.info[_HEAD], connection.info[_UNMADE] = (0, ""), lane
    else:
        connection.info[_HEAD] = (int(found.sequence), str(found.link))


def forget_audit_head(info: dict[Any, Any]) -> None:
    """Make a connection (by its `info`) read its audit lane's head again before its next write: for a caller that
    changed the heads outside the app (the test suite empties every table between tests). Without this the write
    finds its remembered head gone and reads it then, under the enrolment's lock."""
    info.pop(_HEAD, None)
    info.pop(_UNMADE, None)


def _audit_head(connection: Connection, lane: int) -> tuple[int, str]:
    found = connection.execute(_READ_HEAD, {"l": lane}).first()
    if found is None:
        _make_heads(connection, AUDIT, lane)
        return 0, ""
    return int(found.sequence), str(found.link)


def _insert_audit_sqlite(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """The rows inserted by an INSERT ... SELECT that takes each one's place and link from its lane's head, the
    link computed by `cm_chain_link` (the key never leaves the process); a lane with no head yet gets one."""
    _register_link_function(connection)
    lane = _audit_lane(connection)
    values = [{**{v: row[n] for n, v in _PARAMETERS}, "lane": lane, "content": content(AUDIT, row)} for row in rows]
    if connection.execute(_SQLITE_INSERT, values).rowcount < len(values):
        _make_heads(connection, AUDIT, lane)
        connection.execute(_SQLITE_INSERT, values)


def _register_link_function(connection: Connection) -> None:
    if connection.info.get(_FUNCTION):
        return
    key = chain_key()

    def chain_link(previous: str, lane: int, seq: int, values_json: str) -> str:
        return _link(key, previous, _joined(AUDIT, lane, seq, values_json))

    connection.connection.driver_connection.create_function(  # type: ignore[union-attr]
        "cm_chain_link", 4, chain_link, deterministic=True)
    connection.info[_FUNCTION] = True


def _insert_statements() -> tuple[Any, Any]:
    table = _TABLES[AUDIT]
    columns = [*CHAINED[AUDIT], *CHAIN_COLUMNS]
    # PostgreSQL types a bare parameter in a SELECT list as text, which JSON and time columns do not take: cast.
    typed = [cast(bindparam(f"v_{n}", type_=table.c[n].type), table.c[n].type) for n in CHAINED[AUDIT]]
    postgres = insert(table).from_select(columns, select(
        *typed, cast(bindparam("lane"), table.c.chain_lane.type), cast(bindparam("seq"), table.c.chain_seq.type),
        cast(bindparam("link"), table.c.chain_hmac.type),
    ).where(exists().where(_heads.c.chain == AUDIT, _heads.c.lane == bindparam("lane"),
                           _heads.c.sequence == bindparam("previous_seq"),
                           _heads.c.link == bindparam("previous_link")))).returning(table.c.chain_seq)
    place = _heads.c.sequence + 1
    on_sqlite = insert(table).from_select(columns, select(
        *(bindparam(f"v_{n}", type_=table.c[n].type) for n in CHAINED[AUDIT]), _heads.c.lane, place,
        func.cm_chain_link(_heads.c.link, _heads.c.lane, place, bindparam("content")),
    ).where(_heads.c.chain == AUDIT, _heads.c.lane == bindparam("lane")))
    return postgres, on_sqlite


_POSTGRES_INSERT, _SQLITE_INSERT = _insert_statements()
_PARAMETERS = tuple((n, f"v_{n}") for n in CHAINED[AUDIT])  # each chained column and its parameter's name


def _default(table: str, name: str) -> Any:
    default = _TABLES[table].c[name].default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]


# Each chained column with its default (None: it has none), looked up once: a read's audit row asks for every one.
_DEFAULTS: dict[str, tuple[tuple[str, Any], ...]] = {
    table: tuple((name, _TABLES[table].c[name].default) for name in names) for table, names in CHAINED.items()}


def _chain_pending(session: Session, _context: Any, _instances: Any) -> None:
    """Chain the ledger and audit rows this flush inserts, in the order they were added."""
    pending = [obj for obj in session.new if isinstance(obj, (LedgerEntry, AuditEvent))]
    if not pending:
        return
    pending.sort(key=lambda obj: inspect(obj).insert_order)
    connection = session.connection()
    for model, table in ((LedgerEntry, LEDGER), (AuditEvent, AUDIT)):
        rows = [obj for obj in pending if isinstance(obj, model)]
        for obj in rows:
            state = inspect(obj).dict
            for name in CHAINED[table]:
                if name not in state and (default := _default(table, name)) is not None:
                    setattr(obj, name, default)
        _chain(connection, table, rows, getattr, setattr)


if not event.contains(db.session, "before_flush", _chain_pending):
    event.listen(db.session, "before_flush", _chain_pending)
