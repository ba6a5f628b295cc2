"""The tamper-evident chain travels with a backup: the manifest carries every lane's head and a fingerprint of the
key, and a restore verifies the whole restored chain with the restoring app's AUDIT_CHAIN_KEY before it commits, so
a wrong key or a row edited in the archive (its checksums made to match) is refused with nothing left behind."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from backup.conftest import TABLES, make_app, run, sqlite_pass, table_names
from cm_tracker import create_app
from cm_tracker.backup.archive import manifest_digest
from cm_tracker.backup.chain import WRONG_KEY, key_check, wrong_key
from config import TestConfig

LEDGER = "tables/ledger_entries.jsonl.gz"
OTHER_KEY = "another-audit-chain-key-of-at-least-32-chars"


@pytest.fixture(params=["sqlite", "postgresql"])
def target_url(request: pytest.FixtureRequest) -> Callable[[], str]:
    """New empty databases to restore into: SQLite files in the SQLite pass, PostgreSQL databases in the other."""
    if request.param == "sqlite":
        if os.environ.get("TEST_POSTGRES_URL"):
            pytest.skip("runs in the SQLite pass")
        return request.getfixturevalue("sqlite_url")  # type: ignore[no-any-return]
    return request.getfixturevalue("postgres_url")  # type: ignore[no-any-return]


def _manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def _write(members: dict[str, bytes], path: Path) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _app_with_key(url: str, key: str) -> Flask:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        AUDIT_CHAIN_KEY = key

    return create_app(Config)


def _is_empty(url: str) -> bool:
    if url.startswith("sqlite:///"):
        return not Path(url.removeprefix("sqlite:///")).exists()
    return table_names(url) == []


def _edit_a_ledger_reason(members: dict[str, bytes]) -> int:
    """Rewrite one ledger row's reason (a column no sum covers) and make the table's checksum and the manifest's
    digest match, as someone who edited the archive would: only the chain's HMACs can tell. Returns the row's id."""
    manifest = json.loads(members["manifest.json"])
    entry = next(t for t in manifest["tables"] if t["name"] == "ledger_entries")
    names = [c["name"] for c in entry["columns"]]
    lines = gzip.decompress(members[LEDGER]).splitlines(keepends=True)
    row = json.loads(lines[len(lines) // 2])
    row[names.index("reason")] = "edited in the archive"
    lines[len(lines) // 2] = json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    body = b"".join(lines)
    members[LEDGER] = gzip.compress(body)
    entry["sha256"] = hashlib.sha256(body).hexdigest()
    manifest["digest"] = manifest_digest(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    return int(row[names.index("id")])


@sqlite_pass
def test_the_manifest_carries_every_lanes_head_and_a_fingerprint_of_the_key(clinic: Path,
                                                                           clinic_archive: Path) -> None:
    engine = create_engine(f"sqlite:///{clinic}", poolclass=NullPool)
    with engine.connect() as conn:
        heads = [{"table": c, "lane": lane, "sequence": seq, "link": link} for c, lane, seq, link in conn.execute(
            text("SELECT chain, lane, sequence, link FROM chain_heads ORDER BY chain, lane"))]
    engine.dispose()
    manifest = _manifest(clinic_archive)
    checks = manifest["checks"]["chain"]
    assert checks["heads"] == heads
    assert {h["table"] for h in heads} == {"audit_events", "ledger_entries"} and len(heads) > 17
    assert sum(h["sequence"] for h in heads if h["table"] == "ledger_entries") == next(
        t["rows"] for t in manifest["tables"] if t["name"] == "ledger_entries")
    assert checks["key_check"] == key_check(TestConfig.AUDIT_CHAIN_KEY.encode())
    assert TestConfig.AUDIT_CHAIN_KEY not in clinic_archive.read_bytes().decode("latin-1")


def test_a_restored_chain_verifies_whole(clinic_archive: Path, target_url: Callable[[], str]) -> None:
    app = make_app(target_url())
    restored = run(app, "backup", "restore", str(clinic_archive))
    assert restored.exit_code == 0, restored.output
    assert f"Restored {TABLES} tables" in restored.stdout
    manifest = _manifest(clinic_archive)
    rows = {t["name"]: t["rows"] for t in manifest["tables"]}
    verified = run(app, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert (f"Checked {rows['audit_events']} audit rows and {rows['ledger_entries']} ledger rows: the chain is "
            "intact.") in verified.stdout


def test_a_restore_with_another_chain_key_is_refused_naming_the_key(clinic_archive: Path,
                                                                    target_url: Callable[[], str]) -> None:
    url = target_url()
    refused = run(_app_with_key(url, OTHER_KEY), "backup", "restore", str(clinic_archive))
    assert refused.exit_code == 1, refused.output
    assert "check failed: check chain: the key differs from the one the archive was made with" in refused.output
    assert "Traceback" not in refused.output
    assert _is_empty(url)


def test_an_archive_whose_ledger_row_was_edited_is_refused_by_the_chain(clinic_archive: Path, tmp_path: Path,
                                                                        target_url: Callable[[], str]) -> None:
    members = _members(clinic_archive)
    row_id = _edit_a_ledger_reason(members)
    edited = _write(members, tmp_path / "edited.cmbackup")
    url = target_url()
    app = make_app(url)
    assert run(app, "backup", "verify", str(edited)).exit_code == 0  # its checksums all match
    refused = run(app, "backup", "restore", str(edited))
    assert refused.exit_code == 1, refused.output
    assert (f"check failed: check chain: ledger_entries row {row_id}: its content does not match its link"
            in refused.output)
    assert _is_empty(url)


@sqlite_pass
def test_an_archive_without_the_chain_check_still_has_its_chain_verified(clinic_archive: Path, tmp_path: Path,
                                                                         sqlite_url: Callable[[], str]) -> None:
    members = _members(clinic_archive)
    row_id = _edit_a_ledger_reason(members)
    manifest = json.loads(members["manifest.json"])
    del manifest["checks"]["chain"]
    manifest["digest"] = manifest_digest(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    url = sqlite_url()
    refused = run(make_app(url), "backup", "restore", str(_write(members, tmp_path / "stripped.cmbackup")))
    assert refused.exit_code == 1, refused.output
    assert f"check failed: check chain: ledger_entries row {row_id}: its content does not match" in refused.output
    assert _is_empty(url)


def test_a_wrong_key_is_refused_before_a_row_is_loaded(app: Flask) -> None:
    """restore_backup asks this of the manifest first, before it opens the target database."""
    with app.app_context():
        from cm_tracker.services.core.context import chain_key

        ours = key_check(chain_key())
    assert key_check(OTHER_KEY.encode()) != ours
    with app.app_context():
        assert wrong_key({"checks": {"chain": {"key_check": key_check(OTHER_KEY.encode()), "heads": []}}}) == WRONG_KEY
        assert wrong_key({"checks": {"chain": {"key_check": ours, "heads": []}}}) is None
        assert wrong_key({"checks": {}}) is None  # an archive of an earlier release: its chain is checked after
