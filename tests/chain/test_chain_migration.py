"""The migration that begins the chain (c4e8a2f6d0b3) chains the rows already there, in id order, when it has the
key; without one they stay unchained and `audit verify` names them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text
from test_migrations import _seed, empty_database  # noqa: F401  (the fixture: an empty database of its own)

from config import TestConfig

BEFORE = "b9d3f5a7c2e4"


def _app(url: str, key: str) -> Flask:
    from cm_tracker import create_app

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        AUDIT_CHAIN_KEY = key

    return create_app(Config)


@pytest.fixture
def before_the_chain(empty_database: str) -> Iterator[str]:  # noqa: F811
    """The database at the revision before the chain, with a ledger row and audit rows (one with a detail)."""
    from cm_tracker.extensions import db

    application = _app(empty_database, "k" * 40)
    with application.app_context():
        upgrade(revision=BEFORE)
        _seed("ledger_entries")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_events (occurred_at, action, outcome, detail, patient_ids) VALUES "
                              "(CURRENT_TIMESTAMP, 'old', 'success', '{\"b\": [1, 2], \"a\": \"x\"}', ',1,')"))
        db.session.remove()
        db.engine.dispose()
    yield empty_database


def _verified(application: Flask) -> list[str]:
    from cm_tracker.extensions import db
    from cm_tracker.services.usecases import chain

    with application.app_context():
        report = chain.verify()
        db.session.remove()
        return [f"{report.audit.rows} {report.ledger.rows}", *(str(b) for b in report.first_breaks)]


def test_the_migration_chains_the_existing_rows_and_later_writes_go_on_from_them(before_the_chain, monkeypatch):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent, LedgerEntry
    from cm_tracker.services.core import audit

    application = _app(before_the_chain, "k" * 40)
    with application.app_context():
        upgrade()
        rows = db.session.execute(text("SELECT chain_lane, chain_seq FROM ledger_entries")).all()
        assert [tuple(r) for r in rows] == [(1, 1)]  # the enrolment's lane
        assert [tuple(r) for r in db.session.execute(text("SELECT chain_lane, chain_seq FROM audit_events "
                                                          "ORDER BY id"))] == [(0, 1), (0, 2)]
        audit.record("new")
        db.session.commit()
        assert db.session.query(AuditEvent).filter_by(action="new").one().chain_lane > 0
        assert db.session.query(LedgerEntry).count() == 1
        db.session.remove()
    assert _verified(application) == ["3 1"]
    with application.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            else:
                conn.exec_driver_sql("DROP TRIGGER ledger_entries_no_update")
            conn.execute(text("UPDATE ledger_entries SET points = 99"))
        db.session.remove()
        db.engine.dispose()
    assert _verified(application)[1] == ("ledger_entries row 1: its content does not match its link (changed "
                                         "outside cm-tracker)")


def test_the_triggers_are_back_after_the_migration(before_the_chain):
    from sqlalchemy.exc import DatabaseError

    from cm_tracker.extensions import db

    application = _app(before_the_chain, "k" * 40)
    with application.app_context():
        upgrade()
        for table in ("ledger_entries", "audit_events"):
            with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
                conn.execute(text(f"UPDATE {table} SET id = id"))
        db.session.remove()
        db.engine.dispose()


def test_without_a_key_the_rows_stay_unchained_and_verify_names_them(before_the_chain, monkeypatch):
    from cm_tracker.extensions import db

    monkeypatch.delenv("AUDIT_CHAIN_KEY", raising=False)
    application = _app(before_the_chain, "")
    with application.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()
    found = _verified(application)
    assert found[1].startswith("audit_events row 1: it carries no link")
    assert found[2].startswith("ledger_entries row 1: it carries no link")
