"""A damaged archive, an archive of an unknown revision, or a target that is not empty: exit 1 naming the check that
failed, never a traceback, and nothing left in the target database."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from backup.conftest import TABLES, every_row, make_app, run, sqlite_pass, table_names
from cm_tracker.backup.archive import manifest_digest

Members = dict[str, bytes]


def _members(archive: Path) -> Members:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def _write(members: Members, path: Path) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _flip_a_byte_of_the_ledger(members: Members) -> None:
    lines = bytearray(gzip.decompress(members["tables/ledger_entries.jsonl.gz"]))
    lines[len(lines) // 2] ^= 0x01
    members["tables/ledger_entries.jsonl.gz"] = gzip.compress(bytes(lines))


def _flip_a_compressed_byte(members: Members) -> None:
    data = bytearray(members["tables/audit_events.jsonl.gz"])
    data[len(data) // 2] ^= 0xFF
    members["tables/audit_events.jsonl.gz"] = bytes(data)


def _drop_the_ledger(members: Members) -> None:
    del members["tables/ledger_entries.jsonl.gz"]


def _change_the_manifest(change: Callable[[dict[str, Any]], None], *, redigest: bool) -> Callable[[Members], None]:
    def edit(members: Members) -> None:
        manifest = json.loads(members["manifest.json"])
        change(manifest)
        if redigest:
            manifest["digest"] = manifest_digest(manifest)
        members["manifest.json"] = json.dumps(manifest).encode()

    return edit


def _ledger_count(manifest: dict[str, Any]) -> None:
    next(t for t in manifest["tables"] if t["name"] == "ledger_entries")["rows"] += 1


def _revision(manifest: dict[str, Any]) -> None:
    manifest["revision"] = "f00dfeedf00d"


DAMAGES = [
    pytest.param(_flip_a_byte_of_the_ledger, "checksum of ledger_entries", id="flipped-byte"),
    pytest.param(_flip_a_compressed_byte, "table file audit_events", id="flipped-compressed-byte"),
    pytest.param(_drop_the_ledger, "table file ledger_entries: missing", id="missing-table-file"),
    pytest.param(_change_the_manifest(_ledger_count, redigest=False), "manifest digest", id="edited-manifest"),
    pytest.param(_change_the_manifest(_ledger_count, redigest=True), "row count of ledger_entries",
                 id="manifest-count"),
    pytest.param(_change_the_manifest(_revision, redigest=True), "schema revision", id="unknown-revision"),
]


def _assert_refused(app: Flask, archive: Path, check: str) -> None:
    result = run(app, "backup", "restore", str(archive))
    assert result.exit_code == 1, result.output
    assert f"check failed: {check}" in result.output
    assert "Traceback" not in result.output


@sqlite_pass
@pytest.mark.parametrize(("damage", "check"), DAMAGES)
def test_a_damaged_archive_is_refused_and_leaves_no_sqlite_file(damage: Callable[[Members], None], check: str,
                                                                clinic_archive: Path, tmp_path: Path,
                                                                sqlite_url: Callable[[], str]) -> None:
    members = _members(clinic_archive)
    damage(members)
    target = sqlite_url()
    _assert_refused(make_app(target), _write(members, tmp_path / "damaged.cmbackup"), check)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.cmbackup"]


@sqlite_pass
def test_a_truncated_archive_is_refused(clinic_archive: Path, tmp_path: Path, sqlite_url: Callable[[], str]) -> None:
    cut = tmp_path / "cut.cmbackup"
    cut.write_bytes(clinic_archive.read_bytes()[: clinic_archive.stat().st_size * 2 // 3])
    _assert_refused(make_app(sqlite_url()), cut, "table file ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.cmbackup"]


@sqlite_pass
def test_verify_names_the_damage_without_a_database(clinic_archive: Path, tmp_path: Path,
                                                    sqlite_url: Callable[[], str]) -> None:
    members = _members(clinic_archive)
    _flip_a_byte_of_the_ledger(members)
    app = make_app(sqlite_url())
    intact = run(app, "backup", "verify", str(clinic_archive))
    damaged = run(app, "backup", "verify", str(_write(members, tmp_path / "damaged.cmbackup")))
    assert intact.exit_code == 0 and f"is intact: {TABLES} tables" in intact.stdout
    assert damaged.exit_code == 1 and "check failed: checksum of ledger_entries" in damaged.output


def test_a_damaged_archive_leaves_the_postgresql_database_empty(clinic_archive: Path, tmp_path: Path,
                                                                postgres_url: Callable[[], str]) -> None:
    members = _members(clinic_archive)
    _flip_a_byte_of_the_ledger(members)
    target = postgres_url()
    _assert_refused(make_app(target), _write(members, tmp_path / "damaged.cmbackup"), "checksum of ledger_entries")
    assert table_names(target) == []


def test_a_row_that_breaks_the_schema_rolls_the_postgresql_restore_back(clinic_archive: Path, tmp_path: Path,
                                                                        postgres_url: Callable[[], str]) -> None:
    # The archive checks out (its checksums were rewritten too), but one ledger entry names a patient that does
    # not exist: the database refuses it, after the schema and many rows were written in the same transaction.
    members = _members(clinic_archive)
    lines = gzip.decompress(members["tables/ledger_entries.jsonl.gz"]).splitlines(keepends=True)
    row = json.loads(lines[-1])
    row[1] = 999_999  # patient_id
    lines[-1] = json.dumps(row, separators=(",", ":")).encode() + b"\n"
    members["tables/ledger_entries.jsonl.gz"] = gzip.compress(b"".join(lines))

    def rewrite(manifest: dict[str, Any]) -> None:
        import hashlib

        entry = next(t for t in manifest["tables"] if t["name"] == "ledger_entries")
        entry["sha256"] = hashlib.sha256(b"".join(lines)).hexdigest()

    _change_the_manifest(rewrite, redigest=True)(members)
    target = postgres_url()
    _assert_refused(make_app(target), _write(members, tmp_path / "bad-row.cmbackup"), "database")
    assert table_names(target) == []


@sqlite_pass
def test_a_database_with_data_is_refused_and_unchanged(clinic_app: Flask, clinic_archive: Path,
                                                       clinic_facts: tuple[dict[str, Any], Any]) -> None:
    _assert_refused(clinic_app, clinic_archive, "target empty")
    assert every_row(clinic_app) == clinic_facts[0]


def test_a_postgresql_database_with_a_table_is_refused_and_unchanged(clinic_archive: Path,
                                                                     postgres_url: Callable[[], str]) -> None:
    target = postgres_url()
    engine = create_engine(target, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id integer PRIMARY KEY, body text)"))
        conn.execute(text("INSERT INTO notes VALUES (1, 'kept')"))
    _assert_refused(make_app(target), clinic_archive, "target empty")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, body FROM notes")).all() == [(1, "kept")]
    engine.dispose()
    assert table_names(target) == ["notes"]
