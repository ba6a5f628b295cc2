"""The SQLite write gate (cm_tracker/sqlite_gate.py): a write transaction holds an exclusive lock on the gate file
from its first write until its commit or rollback has returned, so the next writer is let in at once instead of
sleeping in SQLite's busy handler; a read takes nothing, and a connection the pool drops gives the gate up."""

from __future__ import annotations

import fcntl
import os

import pytest
from sqlalchemy import create_engine, text

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
