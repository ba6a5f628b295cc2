"""A pooled PostgreSQL connection the server dropped costs a retry of the request's first read, not an error
(cm_tracker/database.py); a statement after the first is never retried, its transaction being gone."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from helpers import api_token, sign_in
from worlds.personas import Personas

pytestmark = pytest.mark.time_machine(datetime(2026, 11, 20, 20, 0, tzinfo=UTC), tick=False)


@pytest.fixture
def kill_pooled(app: Flask, database_url: str) -> Iterator[object]:
    """A function that ends, from another connection, the backends of every connection the app has checked out of
    its pool during the test: they are dead, and the app does not know it yet. Only those: other test runs may use
    the same database at the same time."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (TEST_POSTGRES_URL)")
    from cm_tracker.extensions import db

    with app.app_context():
        engine = db.engine
        db.session.remove()
    # The pool starts empty, so the connections the test kills are the ones its next request checks out; and it ends
    # empty, so no dead connection is left for the tests after it.
    engine.dispose()
    pids: set[int] = set()

    def checked_out(dbapi_connection: object, _record: object, _proxy: object) -> None:
        pids.add(dbapi_connection.info.backend_pid)  # type: ignore[attr-defined]

    event.listen(engine, "checkout", checked_out)
    killer = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")

    def kill() -> int:
        with killer.connect() as conn:
            ended = conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                                 {"pids": sorted(pids)}).all()
        pids.clear()
        return len(ended)

    yield kill
    event.remove(engine, "checkout", checked_out)
    killer.dispose()
    with app.app_context():
        db.session.remove()
    engine.dispose()


def test_a_read_after_the_pooled_connection_died_still_answers(app, client, personas: Personas, kill_pooled,
                                                               caplog):
    headers = api_token(client, "cora")
    path = f"/api/v1/patients/{personas.patient}/balance"
    assert client.get(path, headers=headers).status_code == 200  # a connection now waits in the pool
    assert kill_pooled() >= 1
    with caplog.at_level(logging.WARNING, logger="cm_tracker.database"):
        response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["points"] == 0
    assert "pooled database connection was dead" in caplog.text  # it was, and the first read ran again


def test_a_page_after_the_pooled_connection_died_still_answers(app, client, personas: Personas, kill_pooled):
    sign_in(client, "pat")
    assert client.get("/portal/").status_code == 200
    kill_pooled()
    assert client.get("/portal/").status_code == 200


def test_a_statement_after_the_first_is_not_retried(app, personas: Personas, kill_pooled):
    from cm_tracker.extensions import db

    with app.app_context():
        db.session.execute(select(1))  # the transaction has begun on this connection
        kill_pooled()
        with pytest.raises(DBAPIError) as raised:
            db.session.execute(select(1))
        assert raised.value.connection_invalidated
        db.session.rollback()
        assert db.session.execute(select(1)).scalar() == 1  # and the pool has fresh connections


_DROPPED = "server closed the connection unexpectedly"  # what psycopg says of a dropped connection


@pytest.fixture
def drop_once(app: Flask) -> Iterator[object]:
    """A function that makes the next statement of the app's engine whose SQL starts with `verb` fail as on a dropped
    connection, once, on either database: the driver's own OperationalError, raised where the driver would execute
    it, which the `handle_error` hook marks as a disconnect (the dialect's own check knows only its real messages).
    Returns the list of the statements so failed, and after it every statement starting with `verb`."""
    from cm_tracker.extensions import db

    with app.app_context():
        engine = db.engine
    armed: list[str] = []
    seen: list[str] = []

    def execute(cursor: object, statement: str, *_args: object) -> None:
        for verb in armed:
            if statement.lstrip().upper().startswith(verb):
                seen.append(statement)
                if len(seen) == 1:
                    raise engine.dialect.loaded_dbapi.OperationalError(_DROPPED)

    def disconnect(context: object) -> None:
        if _DROPPED in str(context.original_exception):  # type: ignore[attr-defined]
            context.is_disconnect = True  # type: ignore[attr-defined]

    listeners = (("do_execute", execute), ("do_execute_no_params", execute), ("handle_error", disconnect))
    for name, listener in listeners:
        event.listen(engine, name, listener)

    def arm(verb: str) -> list[str]:
        armed.append(verb)
        return seen

    yield arm
    for name, listener in listeners:
        event.remove(engine, name, listener)
    with app.app_context():
        db.session.remove()


def test_a_read_whose_first_statement_meets_a_dropped_connection_answers_from_a_fresh_one(
        app, client, personas: Personas, drop_once, caplog):
    """On either database, without a server to kill: the token's read fails as on a dropped connection, once."""
    headers = api_token(client, "cora")
    path = f"/api/v1/patients/{personas.patient}/balance"
    seen = drop_once("SELECT")
    with caplog.at_level(logging.WARNING, logger="cm_tracker.database"):
        response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["points"] == 0
    assert seen[0] == seen[1]  # the failed first read ran again, as it was
    assert "pooled database connection was dead" in caplog.text


def test_a_write_that_meets_a_dropped_connection_is_not_run_again(app, personas: Personas, drop_once):
    from sqlalchemy import func, insert

    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent
    from cm_tracker.timeutil import utcnow

    seen = drop_once("INSERT")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        db.session.rollback()  # the INSERT below is its transaction's first statement
        with pytest.raises(DBAPIError) as raised:
            db.session.execute(insert(AuditEvent).values(action="probe.write", outcome="success",
                                                         occurred_at=utcnow()))
        assert raised.value.connection_invalidated
        db.session.rollback()
        assert len(seen) == 1  # tried once: a write is never retried by the engine settings
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
