"""The SQLite write gate (cm_tracker/sqlite_gate.py): a write transaction holds an exclusive lock on the gate file
from its first write until its commit or rollback has returned, so the next writer is let in at once instead of
sleeping in SQLite's busy handler; a read takes nothing, and a connection the pool drops gives the gate up."""

from __future__ import annotations

import fcntl
import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import event as sqlalchemy_event

from cm_tracker import sqlite_gate


@pytest.fixture
def gated(tmp_path):
    path = str(tmp_path / "gate.db")
    engine = create_engine(f"sqlite:///{path}")
    gate = sqlite_gate.install(engine, path)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine, gate
    engine.dispose()


def _taken(gate: sqlite_gate.WriteGate) -> bool:
    """Whether some connection holds the gate: another descriptor cannot lock the file."""
    fd = os.open(gate.path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_a_write_holds_the_gate_until_its_transaction_ends(gated, end):
    engine, gate = gated
    conn = engine.connect()
    conn.execute(text("SELECT count(*) FROM t"))
    assert not _taken(gate)  # a read takes nothing
    conn.execute(text("INSERT INTO t VALUES (1)"))
    assert _taken(gate)
    getattr(conn, end)()
    assert not _taken(gate) and gate.held == {}
    conn.close()


def test_a_connection_dropped_in_a_write_gives_the_gate_up(gated):
    engine, gate = gated
    conn = engine.connect()
    conn.execute(text("UPDATE t SET n = 2"))
    assert _taken(gate)
    conn.invalidate()
    assert not _taken(gate) and gate.held == {}


def test_a_connection_returned_to_the_pool_mid_write_gives_the_gate_up(gated):
    engine, gate = gated
    conn = engine.connect()
    conn.execute(text("DELETE FROM t"))
    conn.close()  # the pool's reset rolls back
    assert not _taken(gate)


def test_the_apps_sqlite_engine_is_gated(app):
    from cm_tracker.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL locks rows, not the database")
        with db.engine.connect() as conn:
            conn.execute(text("DELETE FROM audit_events WHERE id < 0"))
            assert os.path.exists(f"{db.engine.url.database}.write-gate")
            conn.rollback()


@pytest.fixture
def synced(tmp_path, monkeypatch):
    """A gated engine whose commits sync the WAL (connections in WAL mode with synchronous=NORMAL, as the app's
    engine runs under SQLITE_SYNCHRONOUS = "FULL"), and the fsyncs it makes: (file synced, gate taken then)."""
    path = str(tmp_path / "synced.db")
    engine = create_engine(f"sqlite:///{path}")

    @sqlalchemy_event.listens_for(engine, "connect")
    def _wal(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    gate = sqlite_gate.install(engine, path, sync_wal=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    synced_files: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced_files.append((os.readlink(f"/proc/self/fd/{fd}"), _taken(gate)))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    yield engine, gate, synced_files
    engine.dispose()


def test_a_commit_that_wrote_returns_once_the_wal_is_synced_after_the_gate_is_handed_on(synced):
    engine, gate, fsyncs = synced
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert fsyncs == []  # SQLite itself does not sync at NORMAL
        conn.commit()
        # Synced by the committing call, before it returned, with the write lock already handed on.
        assert fsyncs == [(gate.wal_path, False)]
        conn.execute(text("SELECT count(*) FROM t"))
        conn.commit()  # a transaction that only read has nothing to sync
        assert len(fsyncs) == 1
        conn.execute(text("INSERT INTO t VALUES (2)"))
        conn.rollback()  # nor has one rolled back
        assert len(fsyncs) == 1
    with engine.connect() as conn:  # and what was committed is there
        assert conn.scalar(text("SELECT count(*) FROM t")) == 1


def test_a_writer_that_waited_past_the_gate_still_syncs_its_commit(synced, monkeypatch):
    engine, gate, fsyncs = synced
    monkeypatch.setattr(sqlite_gate, "TIMEOUT_SECONDS", 0.01)
    other = os.open(gate.path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)  # someone holds the gate and does not give it up
    try:
        with engine.connect() as conn:
            conn.execute(text("INSERT INTO t VALUES (3)"))  # goes on without the gate
            assert gate.held == {sqlite_gate._key(conn.connection.dbapi_connection): None}
            conn.commit()
    finally:
        os.close(other)
    assert [name for name, _taken_then in fsyncs] == [gate.wal_path] and gate.held == {}


def test_the_apps_engine_at_full_runs_normal_and_syncs_the_wal_itself(tmp_path, monkeypatch):
    from cm_tracker import create_app
    from cm_tracker.extensions import db
    from config import TestConfig

    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    for level, number in (("FULL", 1), ("NORMAL", 1), ("OFF", 0)):
        path = tmp_path / f"{level}.db"

        class Config(TestConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"
            SQLITE_SYNCHRONOUS = level

        synced.clear()
        application = create_app(Config)
        with application.app_context():
            with db.engine.connect() as conn:
                assert conn.scalar(text("PRAGMA journal_mode")) == "wal"
                assert conn.scalar(text("PRAGMA synchronous")) == number
                conn.execute(text("CREATE TABLE t (n INTEGER)"))
                conn.execute(text("INSERT INTO t VALUES (1)"))
                conn.commit()
            db.engine.dispose()
        # FULL: the commit synced the WAL itself; NORMAL and OFF ask for less, and get it.
        assert synced == ([f"{path}-wal"] if level == "FULL" else []), level
