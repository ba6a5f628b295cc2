"""Encrypted archives: a key file or a passphrase (never on the command line), a restore that needs it, and a
wrong key or a changed byte refused as "wrong key or damaged archive"."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from backup.conftest import TABLES, every_balance, make_app, run, sqlite_pass

pytestmark = sqlite_pass


@pytest.fixture(scope="module")
def keyed(clinic_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keyed")
    key, archive = folder / "backup.key", folder / "clinic.cmbackup.enc"
    assert run(clinic_app, "backup", "new-key", str(key)).exit_code == 0
    created = run(clinic_app, "backup", "create", str(archive), "--encrypt", "--key-file", str(key))
    assert created.exit_code == 0, created.output
    return key, archive


def test_an_encrypted_archive_is_not_readable_as_a_tar(keyed: tuple[Path, Path]) -> None:
    key, archive = keyed
    assert not tarfile.is_tarfile(archive)
    assert key.stat().st_mode & 0o077 == 0


def test_an_archive_encrypted_with_a_key_file_restores_with_it(keyed: tuple[Path, Path], clinic_app: Flask,
                                                               sqlite_url: Callable[[], str]) -> None:
    key, archive = keyed
    target = make_app(sqlite_url())
    restored = run(target, "backup", "restore", str(archive), "--key-file", str(key))
    assert restored.exit_code == 0, restored.output
    assert every_balance(target) == every_balance(clinic_app)


def test_a_passphrase_file_encrypts_and_restores(clinic_app: Flask, tmp_path: Path,
                                                 sqlite_url: Callable[[], str]) -> None:
    phrase, archive = tmp_path / "phrase.txt", tmp_path / "clinic.enc"
    phrase.write_text("correct horse battery staple\n")
    created = run(clinic_app, "backup", "create", str(archive), "--encrypt", "--passphrase-file", str(phrase))
    assert created.exit_code == 0, created.output
    verified = run(make_app(sqlite_url()), "backup", "verify", str(archive), "--passphrase-file", str(phrase))
    assert verified.exit_code == 0, verified.output
    assert f"is intact: {TABLES} tables" in verified.stdout


def test_a_wrong_key_is_refused_with_nothing_written(keyed: tuple[Path, Path], tmp_path: Path) -> None:
    _key, archive = keyed
    app = make_app(f"sqlite:///{tmp_path / 'target.db'}")
    other = tmp_path / "other.key"
    assert run(app, "backup", "new-key", str(other)).exit_code == 0
    result = run(app, "backup", "restore", str(archive), "--key-file", str(other))
    assert result.exit_code == 1
    assert "check failed: key: wrong key or damaged archive" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "target.db").exists()


def test_a_changed_byte_of_an_encrypted_archive_is_refused(keyed: tuple[Path, Path], tmp_path: Path,
                                                           sqlite_url: Callable[[], str]) -> None:
    key, archive = keyed
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    changed = tmp_path / "changed.enc"
    changed.write_bytes(bytes(data))
    result = run(make_app(sqlite_url()), "backup", "restore", str(changed), "--key-file", str(key))
    assert result.exit_code == 1 and "wrong key or damaged archive" in result.output


def test_an_encrypted_archive_cut_short_is_refused(keyed: tuple[Path, Path], tmp_path: Path,
                                                   sqlite_url: Callable[[], str]) -> None:
    key, archive = keyed
    cut = tmp_path / "cut.enc"
    cut.write_bytes(archive.read_bytes()[:-100])
    result = run(make_app(sqlite_url()), "backup", "verify", str(cut), "--key-file", str(key))
    assert result.exit_code == 1 and "check failed: archive: the encrypted archive is truncated" in result.output


def test_an_encrypted_archive_without_its_key_is_refused(keyed: tuple[Path, Path],
                                                         sqlite_url: Callable[[], str]) -> None:
    result = run(make_app(sqlite_url()), "backup", "restore", str(keyed[1]))
    assert result.exit_code == 1
    assert "check failed: key: the archive is encrypted: give --key-file or --passphrase-file" in result.output


def test_encrypting_needs_a_key_and_a_short_passphrase_is_refused(clinic_app: Flask, tmp_path: Path) -> None:
    phrase = tmp_path / "phrase.txt"
    phrase.write_text("short\n")
    no_key = run(clinic_app, "backup", "create", str(tmp_path / "a"), "--encrypt")
    short = run(clinic_app, "backup", "create", str(tmp_path / "b"), "--encrypt", "--passphrase-file", str(phrase))
    assert no_key.exit_code == 2 and "--encrypt needs --key-file" in no_key.output
    assert short.exit_code == 1 and "shorter than 12 characters" in short.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["phrase.txt"]
