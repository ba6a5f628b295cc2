"""One writer at a time on a SQLite file, handed over as soon as the last one commits.

SQLite lets one connection write at a time. A writer that finds the write lock taken is made to wait by SQLite's
busy handler, which does not wait for the lock to be released: it sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50
and then 100 ms between tries. With four desk clients, the third in the queue slept past the moment the lock came
free, and the lock sat idle while writers waited: the desk entry's p95 was several times its time holding the lock
(docs/performance.md).

So every write transaction first takes this gate: an exclusive `flock` on a file beside the database, which every
process of the app (gunicorn's workers, the nightly command) takes the same way, before its first INSERT, UPDATE or
DELETE, and gives up right after its COMMIT or ROLLBACK. The next writer gets it within half a millisecond of that,
and then finds SQLite's own lock free; the busy timeout stays as it was, for writers that do not pass the gate
(another program on the same file). A writer that cannot get the gate in 30 s (the busy timeout) goes on without
it and leaves the waiting to SQLite, so the gate never turns a wait into a hang.

Durability, with the WAL synced after the gate is handed on (`sync_wal`, what `SQLITE_SYNCHRONOUS = "FULL"` means
for a file in WAL mode): with `synchronous=FULL` SQLite fsyncs the WAL inside COMMIT, while the writer still holds
the write lock, so every write in the clinic (a read's audit row included) waited for the writer before it to reach
the disk, one fsync at a time: on this kind of disk that, not the work, bounded the reads a second. Instead the
connections run `synchronous=NORMAL` (COMMIT appends the transaction to the WAL and returns) and the committing
call fsyncs the WAL itself after giving the gate up, before it returns: a commit still returns only once it is on
disk, so no answer (a read's included, whose audit row is committed before its first byte) leaves before its rows
are durable; meanwhile the next writer appends, and fsyncs that overlap are served by one flush. The WAL is
appended in commit order and SQLite replays it only up to the first frame that is missing or damaged, so a commit
that is on disk brings every earlier one with it: the audit chain never loses a link in the middle.
"""

from __future__ import annotations

import fcntl
import os
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
POLL_SECONDS = 0.0005
TIMEOUT_SECONDS = 30.0


class WriteGate:
    """The gate of one database file; `held` maps a DBAPI connection (by id) to the descriptor holding the lock."""

    def __init__(self, database_path: str) -> None:
        self.path = f"{database_path}.write-gate"
        self.wal_path = f"{database_path}-wal"
        self.sync_wal = False  # set by `install`: the connections commit without fsync, the commit call syncs
        # A connection in a write transaction -> the descriptor holding the gate (None: it writes without the gate,
        # having waited too long, and is still a writer whose commit must reach the disk).
        self.held: dict[int, int | None] = {}

    def enter(self, dbapi_connection: Any) -> None:
        key = _key(dbapi_connection)
        if key in self.held:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    self.held[key] = None
                    return
                time.sleep(POLL_SECONDS)
        self.held[key] = fd

    def leave(self, dbapi_connection: Any) -> None:
        fd = self.held.pop(_key(dbapi_connection), None)
        if fd is not None:
            os.close(fd)  # closing the descriptor releases its lock

    def writing(self, dbapi_connection: Any) -> bool:
        """Whether the connection's transaction has written (and so its commit has something to sync)."""
        return _key(dbapi_connection) in self.held

    def sync(self) -> None:
        """Flush the WAL to the disk: every transaction appended to it so far, by any process, is durable after."""
        try:
            fd = os.open(self.wal_path, os.O_RDONLY)
        except FileNotFoundError:
            # The last connection checkpointed the WAL into the database file, which SQLite synced, and removed it.
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _key(connection: Any) -> int:
    """The raw DBAPI connection's id, whether SQLAlchemy passes it or the pool's proxy around it."""
    return id(getattr(connection, "dbapi_connection", None) or connection)


def install(engine: Engine, database_path: str, sync_wal: bool = False) -> WriteGate:
    """Gate every write transaction of `engine` (a SQLite file): enter before the first write statement, leave once
    the DBAPI commit or rollback has returned, and whenever the pool closes or invalidates a connection. With
    `sync_wal` (the connections run `synchronous=NORMAL` in WAL mode), a commit that wrote fsyncs the WAL once the
    gate is given up, before it returns."""
    gate = WriteGate(database_path)
    gate.sync_wal = sync_wal

    @event.listens_for(engine, "before_cursor_execute")
    def _enter(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:7].upper().startswith(WRITES):
            gate.enter(conn.connection.dbapi_connection)

    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        wrote = gate.writing(dbapi_connection)
        try:
            commit(dbapi_connection)
        finally:
            gate.leave(dbapi_connection)
        if wrote and gate.sync_wal:
            gate.sync()

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            gate.leave(dbapi_connection)

    # The pool's reset on check-in calls the dialect's rollback too, so every way a transaction ends passes here.
    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    for name in ("close", "invalidate", "soft_invalidate", "close_detached"):
        event.listen(engine, name, lambda dbapi_connection, *_: gate.leave(dbapi_connection))
    return gate
