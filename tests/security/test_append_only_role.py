"""Append-only against the application itself: on PostgreSQL the app runs as a role that owns nothing and may only
read and insert the ledger, the audit trail, the record versions, the lab bodies as received and the Part 2
consents, revocations and disclosures (`flask db grant-runtime`, README "Production deployment"), so not even the
app's own credentials rewrite history; the models refuse it on both databases.

The refusals need the runtime role: run with TEST_POSTGRES_URL and TEST_POSTGRES_RUNTIME_ROLE=1 (scripts/test's
"postgres" pass does), or they are skipped."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from helpers import api_token
from worlds.personas import Personas

APPEND_ONLY = ("ledger_entries", "audit_events", "record_versions", "lab_bodies", "consents", "consent_revocations",
               "disclosures", "disclosure_packets", "consent_revocation_requests")
NEG = {"cocaine": "negative", "methamphetamine": "negative"}


def _on_postgres(app: Flask) -> bool:
    return str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql")


@pytest.fixture
def runtime(app: Flask) -> Engine:
    """The app's own engine, connected as the runtime role."""
    if not (_on_postgres(app) and app.config.get("MIGRATION_DATABASE_URL")):
        pytest.skip("needs PostgreSQL with the runtime role (TEST_POSTGRES_URL and TEST_POSTGRES_RUNTIME_ROLE=1)")
    from cm_tracker.extensions import db

    with app.app_context():
        return db.engine


@pytest.fixture
def rows(app: Flask, runtime: Engine, history: object, personas: Personas) -> dict[str, int]:
    """A row in each append-only table, written by the runtime role (which may insert), counted per table."""
    from cm_tracker.extensions import db
    from cm_tracker.models import (
        AuditEvent,
        AuditOutcome,
        Consent,
        ConsentRevocation,
        ConsentRevocationRequest,
        Disclosure,
        DisclosurePacket,
        LabBody,
        RecipientKind,
        RecordType,
        RecordVersion,
    )

    with app.app_context():
        db.session.add(AuditEvent(action="test.row", outcome=AuditOutcome.SUCCESS))
        db.session.add(LabBody(digest="0" * 64, body=b"MSH|", size=4))
        db.session.add(RecordVersion(record_type=RecordType.SPECIMEN, record_id=1, version=1, data={}))
        consent = Consent(patient_id=personas.patient, discloser="p", information="results",
                          recipient_kind=RecipientKind.NAMED, recipient="Dr A", purpose="care",
                          signed_on=date(2026, 1, 5), expires_on=date(2027, 1, 5))
        db.session.add(consent)
        db.session.flush()
        db.session.add(ConsentRevocation(consent_id=consent.id, revoked_on=date(2026, 3, 1)))
        disclosure = Disclosure(patient_id=consent.patient_id, consent_id=consent.id, recipient="Dr A",
                                description="results", disclosed_on=date(2026, 2, 1))
        db.session.add(disclosure)
        db.session.add(ConsentRevocationRequest(consent_id=consent.id, patient_id=consent.patient_id,
                                                requested_on=date(2026, 2, 20)))
        db.session.flush()
        db.session.add(DisclosurePacket(disclosure_id=disclosure.id, period_start=date(2026, 1, 5),
                                        period_end=date(2026, 2, 1), sections="results", language="en",
                                        content="{}", content_digest="0" * 64))
        db.session.commit()
    return _counts(runtime)


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in APPEND_ONLY}


def _refused(engine: Engine, statement: str) -> str:
    """The database's message refusing the statement (nothing of it stays)."""
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
        conn.exec_driver_sql(statement)
    return str(refused.value.orig)


def test_the_append_only_tables_are_those_of_the_models() -> None:
    import cm_tracker.models  # noqa: F401  (the tables exist once the models are imported)
    from cm_tracker.extensions import db

    assert sorted(t.name for t in db.metadata.sorted_tables if t.info.get("append_only")) == sorted(APPEND_ONLY)


@pytest.mark.parametrize("table", APPEND_ONLY)
@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}", "TRUNCATE {table}"])
def test_the_runtime_role_may_not_change_or_remove_a_row(runtime, owner_engine, rows, table, statement):
    message = _refused(runtime, statement.format(table=table))
    assert f"permission denied for table {table}" in message
    assert _counts(owner_engine) == rows


@pytest.mark.parametrize("table", APPEND_ONLY)
@pytest.mark.parametrize("statement", ["ALTER TABLE {table} DISABLE TRIGGER {table}_append_only",
                                       "ALTER TABLE {table} DISABLE TRIGGER ALL", "DROP TABLE {table}"])
def test_the_runtime_role_may_not_disable_the_triggers_or_drop_the_table(runtime, owner_engine, rows, table,
                                                                         statement):
    message = _refused(runtime, statement.format(table=table))
    assert f"must be owner of table {table}" in message
    assert _counts(owner_engine) == rows


def test_the_runtime_role_may_not_create_tables_or_skip_triggers(runtime):
    assert "permission denied for schema public" in _refused(runtime, "CREATE TABLE cm_probe (id integer)")
    assert "permission denied to set parameter" in _refused(runtime, "SET session_replication_role = replica")


@pytest.mark.parametrize("table", APPEND_ONLY)
# CASCADE: a table other tables refer to (lab_bodies) would otherwise be refused for its foreign keys, not its guard.
@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}", "TRUNCATE {table} CASCADE"])
def test_even_the_owner_is_refused_by_the_triggers(runtime, owner_engine, rows, table, statement):
    assert f"{table} is append-only" in _refused(owner_engine, statement.format(table=table))
    assert _counts(owner_engine) == rows


def test_the_runtime_role_holds_exactly_the_grants_and_a_second_grant_changes_nothing(app, runtime):
    role = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).username
    again = app.test_cli_runner().invoke(args=["db", "grant-runtime", role])
    assert again.exit_code == 0, again.output
    checks = [(table, verb) for table in (*APPEND_ONLY, "patients", "alembic_version")
              for verb in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")]
    with runtime.connect() as conn:
        exists = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        held = {(table, verb) for table, verb in checks if table in exists and conn.execute(
            text("SELECT has_table_privilege(current_user, :table, :verb)"), {"table": table, "verb": verb}).scalar()}
    assert held == {*((t, v) for t in APPEND_ONLY for v in ("SELECT", "INSERT")),
                    *(("patients", v) for v in ("SELECT", "INSERT", "UPDATE", "DELETE"))}


def test_the_app_records_corrects_and_redeems_as_the_runtime_role(app, client, personas):
    """Under the restricted role (scripts/test's "postgres" pass) as anywhere: a desk entry, its correction (a new
    record version and adjustments) and a redemption all work."""
    from cm_tracker.extensions import db
    from cm_tracker.models import RecordVersion

    counselor = api_token(client, "cora")
    posted = [client.post(f"/api/v1/patients/{personas.patient}/specimens", headers=counselor, json={
        "collected_at": f"2026-11-{day:02d}T09:30:00-08:00", "status": "final", "results": NEG, "validity": "valid",
        "temperature_ok": True, "observed": False, "method": "poc"}) for day in (2, 4, 6)]
    assert [p.status_code for p in posted] == [201, 201, 201]
    corrected = client.patch(f"/api/v1/specimens/{posted[2].get_json()['id']}", headers=counselor, json={
        "version": 1, "reason": "lab confirmation", "results": {**NEG, "cocaine": "positive"}})
    assert (corrected.status_code, corrected.get_json()["version"]) == (200, 2)
    reward = client.post("/api/v1/rewards", headers=api_token(client, "max"),
                         json={"name": "Bus pass", "cost_points": 20, "value_cents": 500, "stock": 3})
    assert reward.status_code == 201
    redeemed = client.post(f"/api/v1/patients/{personas.patient}/redemptions",
                           json={"reward_id": reward.get_json()["id"], "quantity": 1},
                           headers={**counselor, "Idempotency-Key": "runtime-1"})
    # N N N pays 10 + 15 + 60; N N P pays 10 + 15: 25 points, 20 spent.
    assert (redeemed.status_code, redeemed.get_json()["balance_after"]) == (201, 5)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecordVersion)) >= 2


@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_models_refuse_to_change_a_record_version(app, ctx, change):
    from cm_tracker.extensions import db
    from cm_tracker.models import RecordType, RecordVersion
    from cm_tracker.models.types import AppendOnlyError

    version = RecordVersion(record_type=RecordType.SPECIMEN, record_id=1, version=1, data={}, reason="recorded")
    db.session.add(version)
    db.session.commit()
    if change == "update":
        version.reason = "rewritten"
    else:
        db.session.delete(version)
    with pytest.raises(AppendOnlyError, match="RecordVersion rows are append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalars(select(RecordVersion.reason)).all() == ["recorded"]


def test_grant_runtime_refuses_a_role_that_could_undo_the_guard(app, owner_database_url):
    if not _on_postgres(app):
        pytest.skip("needs PostgreSQL (TEST_POSTGRES_URL)")
    owner = str(make_url(owner_database_url).username)
    refused = app.test_cli_runner().invoke(args=["db", "grant-runtime", owner])
    assert refused.exit_code == 1
    assert f"role {owner!r}" in refused.output and "could undo the append-only guard" in refused.output


def test_grant_runtime_refuses_an_unknown_role(app):
    if not _on_postgres(app):
        pytest.skip("needs PostgreSQL (TEST_POSTGRES_URL)")
    refused = app.test_cli_runner().invoke(args=["db", "grant-runtime", "cm_no_such_role_7f3a"])
    assert refused.exit_code == 1 and "does not exist: create it first" in refused.output


def test_grant_runtime_is_for_postgresql(app):
    if _on_postgres(app):
        pytest.skip("SQLite only")
    refused = app.test_cli_runner().invoke(args=["db", "grant-runtime", "anyone"])
    assert refused.exit_code == 1 and "grant-runtime is for PostgreSQL" in refused.output
