"""A clinic backed up and restored, SQLite -> SQLite, SQLite -> PostgreSQL and PostgreSQL -> SQLite, comes back with
every row of every table, every balance, every ledger entry and every audit row, as the app reads them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from backup.conftest import TABLES, every_balance, every_row, make_app, run, sqlite_pass

Facts = tuple[dict[str, list[tuple[Any, ...]]], dict[int, Any]]


def _restore(archive: Path, url: str) -> Flask:
    app = make_app(url)
    restored = run(app, "backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert f"Restored {TABLES} tables" in restored.stdout
    return app


def _assert_same_clinic(facts: Facts, target: Flask) -> None:
    rows, balances = facts
    assert len(rows["ledger_entries"]) > 700 and len(rows["audit_events"]) > 700
    assert len(balances) == 22 and any(b.points for b in balances.values())
    found = every_row(target)
    assert found["ledger_entries"] == rows["ledger_entries"]
    assert found["audit_events"] == rows["audit_events"]
    assert found == rows
    assert every_balance(target) == balances


@sqlite_pass
def test_a_sqlite_clinic_restores_into_a_new_sqlite_file(clinic_archive: Path, clinic_facts: Facts,
                                                        sqlite_url: Callable[[], str]) -> None:
    _assert_same_clinic(clinic_facts, _restore(clinic_archive, sqlite_url()))


def test_a_sqlite_clinic_moves_to_postgresql_with_two_commands(clinic_app: Flask, clinic_facts: Facts,
                                                               tmp_path: Path,
                                                               postgres_url: Callable[[], str]) -> None:
    archive = tmp_path / "move.cmbackup"
    created = run(clinic_app, "backup", "create", str(archive))
    assert created.exit_code == 0, created.output
    _assert_same_clinic(clinic_facts, _restore(archive, postgres_url()))


def test_a_postgresql_clinic_restores_into_sqlite_with_the_same_checksums(
        clinic_archive: Path, clinic_facts: Facts, tmp_path: Path, postgres_url: Callable[[], str],
        sqlite_url: Callable[[], str]) -> None:
    from cm_tracker.backup.restore import verify_archive

    archive = tmp_path / "pg.cmbackup"
    created = run(_restore(clinic_archive, postgres_url()), "backup", "create", str(archive))
    assert created.exit_code == 0, created.output
    assert "from postgresql" in created.stdout
    first, second = verify_archive(clinic_archive, None), verify_archive(archive, None)
    assert (second["database"], first["database"]) == ("postgresql", "sqlite")
    assert second["tables"] == first["tables"] and second["checks"] == first["checks"]
    _assert_same_clinic(clinic_facts, _restore(archive, sqlite_url()))


def test_new_rows_after_a_postgresql_restore_get_fresh_ids(clinic_archive: Path,
                                                           postgres_url: Callable[[], str]) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent, User
    from cm_tracker.services.usecases import accounts

    app = _restore(clinic_archive, postgres_url())
    with app.app_context():
        largest = db.session.scalar(select(func.max(User.id)))
        largest_audit = db.session.scalar(select(func.max(AuditEvent.id)))
        user = accounts.create_user(username="after-restore", password="a long enough passphrase 42",
                                    role="counselor", display_name="After")
        assert user.id == largest + 1
        assert db.session.scalar(select(func.max(AuditEvent.id))) == largest_audit + 1
        db.session.remove()
