"""Migrations: one head; upgrading an empty database gives exactly the models' schema; down to base and up again;
the ledger, the audit trail and the record versions refuse UPDATE and DELETE at the database level."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DatabaseError

from config import TestConfig


@pytest.fixture
def empty_database(tmp_path) -> Iterator[str]:
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"cm_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def migrated_app(empty_database: str) -> Iterator[Flask]:
    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = empty_database

    application = create_app(Config)
    with application.app_context():
        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()


def _script(app: Flask) -> ScriptDirectory:
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())


def _drift(app: Flask) -> list[object]:
    from cm_tracker.extensions import db

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, db.metadata))


def test_there_is_a_single_head(migrated_app: Flask) -> None:
    assert len(_script(migrated_app).get_heads()) == 1


def test_upgrade_from_empty_matches_the_models(migrated_app: Flask) -> None:
    assert _drift(migrated_app) == []


def test_it_downgrades_to_base_and_upgrades_again(migrated_app: Flask) -> None:
    from cm_tracker.extensions import db

    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert _drift(migrated_app) == []


def test_the_migrations_run_as_the_migration_database_url(empty_database: str, tmp_path) -> None:
    """The owner's URL gets the schema; the app's own (the runtime role's in production) is only read from."""
    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'runtime.db'}"
        MIGRATION_DATABASE_URL = empty_database

    application = create_app(Config)
    with application.app_context():
        upgrade()
        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()
    owner = create_engine(application.config["MIGRATION_DATABASE_URL"])
    assert {"alembic_version", "ledger_entries", "record_versions"} <= set(inspect(owner).get_table_names())
    owner.dispose()


def test_revision_files_never_import_the_app() -> None:
    from pathlib import Path

    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    for path in versions.glob("*.py"):
        assert "cm_tracker" not in path.read_text(), path.name


APPEND_ONLY = ["ledger_entries", "audit_events", "record_versions", "lab_bodies", "consents",
               "consent_revocations", "disclosures", "disclosure_packets", "consent_revocation_requests"]


def test_every_append_only_model_has_its_guard_here() -> None:
    import cm_tracker.models  # noqa: F401  (the tables exist once the models are imported)
    from cm_tracker.extensions import db

    assert sorted(t.name for t in db.metadata.sorted_tables if t.info.get("append_only")) == sorted(APPEND_ONLY)


def _seed(table: str) -> None:
    """One row in `table` (and what it refers to)."""
    from cm_tracker.extensions import db

    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_events (occurred_at, action, outcome) "
                          "VALUES (CURRENT_TIMESTAMP, 'test', 'success')"))
        if table == "record_versions":
            conn.execute(text("INSERT INTO record_versions (record_type, record_id, version, data, reason, "
                              "changed_at) VALUES ('specimen', 1, 1, '{}', 'recorded', CURRENT_TIMESTAMP)"))
        if table == "lab_bodies":
            conn.execute(text("INSERT INTO lab_bodies (digest, body, size, created_at) "
                              "VALUES ('d', 'x', 1, CURRENT_TIMESTAMP)"))
        if table in ("consents", "consent_revocations", "disclosures", "disclosure_packets",
                     "consent_revocation_requests"):
            _seed_consent(conn, table)
        if table == "ledger_entries":
            conn.execute(text("INSERT INTO patients (display_name, record_number, created_at, version) "
                              "VALUES ('x', 'r1', CURRENT_TIMESTAMP, 1)"))
            conn.execute(text("INSERT INTO programs (name, description, point_value_cents, weeks, visit_days, "
                              "cap_cents, cap_window, dilute_policy, funding_source, requires_two_person_handover, "
                              "is_archived, version, created_at) VALUES ('p', '', 25, 12, '[]', 100, 'episode', "
                              "'failure', '', false, false, 1, CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO enrollments (patient_id, program_id, start_on, status, visit_days, "
                              "created_at, version) VALUES (1, 1, '2026-01-05', 'active', '[]', CURRENT_TIMESTAMP, 1)"))
            conn.execute(text("INSERT INTO ledger_entries (patient_id, enrollment_id, created_at, kind, points, "
                              "draws, value_cents, reason) VALUES (1, 1, CURRENT_TIMESTAMP, 'award', 10, 0, 250, 'x')"))


def _seed_consent(conn: Connection, table: str) -> None:
    """A patient's consent, and under it the revocation or the disclosure `table` names (one row in `table`)."""
    conn.execute(text("INSERT INTO patients (display_name, record_number, created_at, version) "
                      "VALUES ('x', 'r1', CURRENT_TIMESTAMP, 1)"))
    conn.execute(text("INSERT INTO consents (patient_id, discloser, information, recipient_kind, recipient, purpose, "
                      "signed_on, expires_on, created_at) VALUES (1, 'p', 'results', 'named', 'Dr A', 'care', "
                      "'2026-01-05', '2027-01-05', CURRENT_TIMESTAMP)"))
    if table == "consent_revocations":
        conn.execute(text("INSERT INTO consent_revocations (consent_id, revoked_on, note, created_at) "
                          "VALUES (1, '2026-02-01', '', CURRENT_TIMESTAMP)"))
    if table in ("disclosures", "disclosure_packets"):
        conn.execute(text("INSERT INTO disclosures (patient_id, consent_id, recipient, description, disclosed_on, "
                          "created_at) VALUES (1, 1, 'Dr A', 'results', '2026-01-10', CURRENT_TIMESTAMP)"))
    if table == "disclosure_packets":
        conn.execute(text("INSERT INTO disclosure_packets (disclosure_id, period_start, period_end, sections, "
                          "language, content, content_digest, created_at) VALUES (1, '2026-01-01', '2026-01-10', "
                          "'results', 'en', '{}', 'd', CURRENT_TIMESTAMP)"))
    if table == "consent_revocation_requests":
        conn.execute(text("INSERT INTO consent_revocation_requests (consent_id, patient_id, requested_on, note, "
                          "created_at) VALUES (1, 1, '2026-02-01', '', CURRENT_TIMESTAMP)"))


@pytest.mark.parametrize("table", APPEND_ONLY)
@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}"])
def test_the_database_refuses_to_rewrite_history(migrated_app: Flask, table: str, statement: str) -> None:
    from cm_tracker.extensions import db

    _seed(table)
    with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement.format(table=table)))
    with db.engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1


def test_the_record_versions_guard_downgrades_and_upgrades_again(migrated_app: Flask) -> None:
    from cm_tracker.extensions import db

    _seed("record_versions")
    downgrade(revision="e5a8c3f7b2d4")
    with db.engine.begin() as conn:  # without its guard a version can be rewritten
        conn.execute(text("UPDATE record_versions SET reason = 'rewritten'"))
    upgrade()
    with pytest.raises(DatabaseError, match="record_versions is append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE record_versions SET reason = 'again'"))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT reason FROM record_versions")).scalar_one() == "rewritten"
