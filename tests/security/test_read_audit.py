"""A read and its audit row are one transaction (services/usecases/access_log.py): the row is committed with the
request, once, before the answer leaves, and a read whose row cannot be written is not answered. Authenticating a
request reads its session or token together with its user, in one statement."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from helpers import api_token, sign_in, statements
from worlds.personas import Personas

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
pytestmark = pytest.mark.time_machine(NOW, tick=False)
READS_USERS = re.compile(r"\b(FROM|JOIN) users\b")


@contextmanager
def commits(app: Flask) -> Iterator[list[object]]:
    """One entry per COMMIT sent to the database inside the block."""
    from cm_tracker.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[object] = []

    def listener(conn: object) -> None:
        seen.append(conn)

    event.listen(engine, "commit", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", listener)


@contextmanager
def refused_commits() -> Iterator[None]:
    """Every commit of the app's session fails, as on a full disk."""
    from cm_tracker.extensions import db

    def refuse(_session: object) -> None:
        raise OperationalError("COMMIT", {}, Exception("no space left on device"))

    event.listen(db.session, "before_commit", refuse)
    try:
        yield
    finally:
        event.remove(db.session, "before_commit", refuse)


def committed(app: Flask, action: str) -> int:
    """Rows of `action` visible to a connection of its own, i.e. committed."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    with app.app_context(), db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)) or 0


def auth_selects(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")
            and ("api_tokens" in s or "user_sessions" in s or READS_USERS.search(s))]


def test_a_bearer_request_reads_its_token_with_its_user_in_one_select(app, client, personas: Personas):
    headers = api_token(client, "cora")
    path = f"/api/v1/patients/{personas.patient}/balance"
    for touched in (True, False):  # the first use records the token's last use (at the end); the next does not
        with statements(app) as seen:
            assert client.get(path, headers=headers).status_code == 200
        auth = auth_selects(seen)
        assert len(auth) == 1, auth
        assert "api_tokens" in auth[0] and READS_USERS.search(auth[0])
        assert seen[0] == auth[0]
        touches = [s for s in seen if s.lstrip().startswith("UPDATE api_tokens")]
        assert len(touches) == (1 if touched else 0)


def test_a_signed_in_page_reads_its_session_with_its_user_in_one_select(app, client, personas: Personas):
    sign_in(client, "pat")
    with statements(app) as seen:
        assert client.get("/portal/").status_code == 200
    auth = auth_selects(seen)
    assert len(auth) == 1, auth
    assert "user_sessions" in auth[0] and READS_USERS.search(auth[0])


def test_a_portal_read_is_one_commit_and_its_audit_row_is_committed_when_it_answers(app, client, personas):
    sign_in(client, "pat")
    before = committed(app, "patient.view")
    with commits(app) as seen:
        response = client.get("/portal/")
        assert response.status_code == 200
        assert committed(app, "patient.view") == before + 1
    assert len(seen) == 1


def test_an_api_read_is_one_commit_and_its_audit_row_is_committed_when_it_answers(app, client, personas):
    headers = api_token(client, "pat")
    assert client.get("/api/v1/me/balance", headers=headers).status_code == 200  # the token's first use
    with commits(app) as seen:
        assert client.get("/api/v1/me/balance", headers=headers).status_code == 200
        assert committed(app, "patient.view") == 2
    assert len(seen) == 1


def test_a_page_read_whose_audit_row_cannot_be_written_is_not_answered(app, client, personas):
    sign_in(client, "pat")
    with refused_commits():
        response = client.get("/portal/")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"  # the security headers still apply
    assert committed(app, "patient.view") == 0


def test_an_api_read_whose_audit_row_cannot_be_written_is_not_answered(app, client, personas):
    headers = api_token(client, "cora")
    with refused_commits():
        response = client.get(f"/api/v1/patients/{personas.patient}/balance", headers=headers)
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error",
                                             "message": "Something went wrong on our side. Nothing was saved."}}
    assert committed(app, "patient.view") == 0


def test_a_streamed_export_has_its_audit_row_committed_before_its_first_byte(app, client, personas):
    sign_in(client, "max")
    response = client.get("/reports/ledger.csv")
    try:
        assert response.status_code == 200
        assert response.is_streamed
        assert committed(app, "report.export") == 1  # nothing of the body has been read yet
        assert response.get_data(as_text=True).startswith("entry_id,created_at,")
    finally:
        response.close()


def test_a_rollback_in_the_request_keeps_the_read_row_and_drops_what_else_was_left(app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.services.core import audit
    from cm_tracker.services.usecases import access_log

    with app.test_request_context("/"):
        access_log.begin_request()
        access_log.log_now("patient.view", patient_id=personas.patient, object_type="patient")
        db.session.flush()
        db.session.rollback()  # a preview, a refused form, an error handler
        audit.record("stray.write")  # left pending by the request, committed by nobody
        assert committed(app, "patient.view") == 0
        access_log.commit_request()
        access_log.end_request()
    assert committed(app, "patient.view") == 1
    assert committed(app, "stray.write") == 0


def test_a_denial_is_committed_at_once_even_in_a_request(app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.services.core import audit
    from cm_tracker.services.usecases import access_log

    with app.test_request_context("/"):
        access_log.begin_request()
        access_log.log_now("patient.view", outcome=audit.DENIED, patient_id=personas.patient)
        db.session.rollback()  # the refusal's error handler
        assert committed(app, "patient.view") == 1
        access_log.end_request()


def test_outside_a_request_log_now_commits_at_once(app, personas):
    from cm_tracker.services.usecases import access_log

    with app.app_context():
        access_log.log_now("report.view", object_type="report", object_id="outcomes")
        assert committed(app, "report.view") == 1
