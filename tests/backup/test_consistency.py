"""An archive is one snapshot: rows committed by the app while it is being written are not in it, in any table,
so its counts, checksums and checks still verify against each other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from backup.conftest import make_app, run, sqlite_pass
from cm_tracker.backup.create import create_backup
from cm_tracker.backup.restore import verify_archive

WRITES = (
    "INSERT INTO audit_events (occurred_at, action, outcome) VALUES ('2026-11-20 18:00:00.000000', 'test.write', "
    "'success')",
    "INSERT INTO ledger_entries (patient_id, enrollment_id, created_at, kind, points, draws, value_cents, reason) "
    "SELECT patient_id, id, '2026-11-20 18:00:00.000000', 'adjustment', 50, 0, 50, 'written during the backup' "
    "FROM enrollments ORDER BY id LIMIT 1",
)


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        found = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ("audit_events",
                                                                                              "ledger_entries")}
    engine.dispose()
    return found


def _archive_while_writing(url: str, out: Path) -> dict[str, int]:
    """Create the archive; once its first table is written, the app commits a row to the audit trail and one to the
    ledger, which is read later. Returns the counts before those writes."""
    before, writer, wrote = _counts(url), create_engine(url, poolclass=NullPool), []

    def write_once(_table: str, _rows: int) -> None:
        if not wrote:
            with writer.begin() as conn:
                for statement in WRITES:
                    conn.execute(text(statement))
            wrote.append(True)

    with make_app(url).app_context():  # the manifest's chain check fingerprints the app's AUDIT_CHAIN_KEY
        manifest = create_backup(url, out, progress=write_once)
    writer.dispose()
    assert manifest["tables"][0]["name"] != "ledger_entries"  # read after the writes, so only a snapshot hides them
    assert _counts(url) == {t: n + 1 for t, n in before.items()}
    return before


def _assert_snapshot(archive: Path, before: dict[str, int]) -> None:
    manifest = verify_archive(archive, None)
    assert {t["name"]: t["rows"] for t in manifest["tables"] if t["name"] in before} == before


@sqlite_pass
def test_rows_committed_during_a_sqlite_backup_are_not_in_it(clinic_archive: Path, tmp_path: Path,
                                                             sqlite_url: Callable[[], str]) -> None:
    url = sqlite_url()
    assert run(make_app(url), "backup", "restore", str(clinic_archive)).exit_code == 0
    archive = tmp_path / "during.cmbackup"
    _assert_snapshot(archive, _archive_while_writing(url, archive))
    assert run(make_app(sqlite_url()), "backup", "restore", str(archive)).exit_code == 0


def test_rows_committed_during_a_postgresql_backup_are_not_in_it(clinic_archive: Path, tmp_path: Path,
                                                                 postgres_url: Callable[[], str]) -> None:
    url = postgres_url()
    assert run(make_app(url), "backup", "restore", str(clinic_archive)).exit_code == 0
    archive = tmp_path / "during.cmbackup"
    _assert_snapshot(archive, _archive_while_writing(url, archive))
