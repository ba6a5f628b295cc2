"""Database engine settings: SQLite with WAL and a busy timeout; PostgreSQL with recycled pooled connections and one
retry of a transaction's first read when its pooled connection turns out to be dead.

PostgreSQL used `pool_pre_ping`, a `SELECT 1` round trip on every checkout, i.e. on every request. SQLAlchemy's
"optimistic" disconnect handling (docs: "Dealing with Disconnects") costs nothing on the good path instead:
`pool_recycle` replaces a connection older than DATABASE_POOL_RECYCLE_SECONDS at checkout (before a firewall or the
server drops it while idle), and a connection that still turns out dead raises a DBAPIError with
`connection_invalidated`, after which the pool hands out fresh connections. Such an error on the *first* statement
of a transaction loses nothing: no earlier statement ran in it, so running that statement again on a fresh
connection is retrying the whole transaction from its start, which is the retry SQLAlchemy's FAQ ("How do I retry a
statement execution automatically?") recommends. Every request starts with such a read (its session or its bearer
token), so a connection the database dropped costs a retry, not a 500. A statement after the first, or a write, is
never retried: its transaction, with its locks and writes, is gone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Connection, Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from cm_tracker import sqlite_gate

log = logging.getLogger(__name__)

# Session.info: the current transaction has a connection, i.e. a statement (or a flush) already ran in it.
BEGUN = "cm_tracker.database.begun"


def configure(app: Flask) -> None:
    """Normalise the database URL and engine options before Flask-SQLAlchemy builds the engine."""
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{Path(app.instance_path) / 'cm_tracker.db'}"
    uri = normalise_url(uri)
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if app.config.get("MIGRATION_DATABASE_URL"):
        app.config["MIGRATION_DATABASE_URL"] = normalise_url(app.config["MIGRATION_DATABASE_URL"])
    options: dict[str, Any] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # Bound parameters are names, record numbers, search terms and results: a database error (and its log line,
    # cm_tracker/logs.py) shows "[SQL parameters hidden]" instead. Not a setting: no deployment should log them.
    options["hide_parameters"] = True
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30})
    else:
        options.setdefault("pool_recycle", int(app.config.get("DATABASE_POOL_RECYCLE_SECONDS", 300)))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def normalise_url(uri: str) -> str:
    """The URL with the psycopg 3 driver SQLAlchemy needs named."""
    if uri.startswith("postgres://"):  # Heroku-style URLs name an alias SQLAlchemy 2 no longer accepts
        uri = "postgresql://" + uri.removeprefix("postgres://")
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    return uri


def attach(app: Flask) -> None:
    """Per-connection settings for SQLite and the first-read retry, once the engine exists."""
    from cm_tracker.extensions import db

    _listen_once(db.session)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    synchronous = app.config.get("SQLITE_SYNCHRONOUS", "FULL")
    if synchronous not in {"OFF", "NORMAL", "FULL"}:
        raise ValueError("SQLITE_SYNCHRONOUS must be OFF, NORMAL or FULL")

    # FULL on a file: every commit is on disk when it returns, but synced by the gate after it hands the write lock
    # on, not by SQLite under it (sqlite_gate.py); the connections themselves then run NORMAL.
    on_file = bool(engine.url.database) and engine.url.database != ":memory:"
    sync_wal = on_file and synchronous == "FULL"
    if on_file:
        sqlite_gate.install(engine, str(engine.url.database), sync_wal=sync_wal)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers work while one writer writes; the busy timeout waits for the lock instead of failing.
        cursor = dbapi_connection.cursor()
        mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Only in WAL mode does the gate's fsync of the WAL make a NORMAL commit durable; otherwise SQLite syncs.
        level = "NORMAL" if sync_wal and str(mode).lower() == "wal" else synchronous
        cursor.execute(f"PRAGMA synchronous={level}")
        cursor.close()


def _listen_once(target: Any) -> None:
    """The session events are the extension's (one `db` for every app of the process): register them once."""
    for name, listener in (("after_begin", _begun), ("after_transaction_end", _ended),
                           ("do_orm_execute", retry_first_read)):
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)


def _begun(session: Session, _transaction: SessionTransaction, _connection: Connection) -> None:
    session.info[BEGUN] = True


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(BEGUN, None)


def retry_first_read(state: ORMExecuteState) -> Result[Any] | None:
    """Run a transaction's first statement once more on a fresh connection when its pooled one was dead.

    Only a SELECT that opens its transaction, with nothing waiting to be flushed before it, qualifies; everything
    else runs as usual (None lets the session carry on)."""
    session = state.session
    if session.info.get(BEGUN) or not state.is_select or session.new or session.dirty or session.deleted:
        return None
    try:
        return state.invoke_statement()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("A pooled database connection was dead; running the first read again on a fresh one.")
        session.rollback()  # the failed transaction must end before the session may begin another
        return state.invoke_statement()
