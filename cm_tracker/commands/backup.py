"""`flask backup create|verify|restore|new-key`: portable, verified backups (docs/operations.md).

Progress goes to standard error and the summary to standard output; a refused archive or target exits 1 with the
check that failed, having written nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from cm_tracker.backup import crypto
from cm_tracker.backup.errors import BackupError

backup_cli = AppGroup("backup", help="Portable, verified backups of the whole database (docs/operations.md).")
PASSPHRASE_ENV = "CM_BACKUP_PASSPHRASE"
ArchivePath = click.Path(dir_okay=False, path_type=Path)


def _key_options(command: Any) -> Any:
    command = click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                           help="A key made by `flask backup new-key`.")(command)
    return click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help=f"A file whose first line is the passphrase (or set {PASSPHRASE_ENV}).")(command)


def _secret(key_file: Path | None, passphrase_file: Path | None, *, creating: bool) -> crypto.Secret | None:
    if key_file and passphrase_file:
        raise click.UsageError("give --key-file or --passphrase-file, not both")
    if key_file:
        return crypto.read_key_file(key_file)
    if passphrase_file:
        try:
            text = passphrase_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BackupError("key", f"cannot read the passphrase file {passphrase_file}: {exc}") from exc
        return crypto.passphrase_secret(text[0] if text else "", creating=creating)
    if os.environ.get(PASSPHRASE_ENV):
        return crypto.passphrase_secret(os.environ[PASSPHRASE_ENV], creating=creating)
    return None


def _owner_url() -> str:
    """The tables' owner when one is configured: a restore builds the schema, and the runtime role may not read
    alembic_version, whose revision every archive records (a backup itself only reads, in a read-only transaction)."""
    return str(current_app.config.get("MIGRATION_DATABASE_URL") or current_app.config["SQLALCHEMY_DATABASE_URI"])


def _progress(table: str, rows: int) -> None:
    click.echo(f"  {table:<32} {rows:>12,} rows", err=True)


def _refused(exc: BackupError) -> click.ClickException:
    return click.ClickException(f"check failed: {exc.check}: {exc.message}")


def _summary(manifest: dict[str, Any], verb: str, began: float) -> str:
    rows = sum(entry["rows"] for entry in manifest["tables"])
    return (f"{verb} {len(manifest['tables'])} tables, {rows:,} rows (revision {manifest['revision']}, from "
            f"{manifest['database']}, made {manifest['created_at']}) in {time.perf_counter() - began:.1f} s.")


@backup_cli.command("create")
@click.argument("file", type=ArchivePath)
@click.option("--encrypt", is_flag=True, help="Encrypt the archive (AES-256-GCM) with the key or passphrase.")
@_key_options
def create_command(file: Path, encrypt: bool, key_file: Path | None, passphrase_file: Path | None) -> None:
    """Write FILE: every table of the database (as MIGRATION_DATABASE_URL when set, else DATABASE_URL), in one
    consistent, read-only snapshot, checksummed."""
    from cm_tracker.backup.create import create_backup

    began = time.perf_counter()
    try:
        secret = _secret(key_file, passphrase_file, creating=True)
        if encrypt != (secret is not None):
            raise click.UsageError("--encrypt needs --key-file, --passphrase-file or " + PASSPHRASE_ENV
                                   if encrypt else "a key or passphrase was given without --encrypt")
        manifest = create_backup(_owner_url(), file, secret=secret, progress=_progress)
    except BackupError as exc:
        raise _refused(exc) from exc
    size = f"{file.stat().st_size / 1e6:.1f} MB{', encrypted' if encrypt else ''}"
    click.echo(_summary(manifest, f"Wrote {file} ({size}):", began))


@backup_cli.command("verify")
@click.argument("file", type=ArchivePath)
@_key_options
def verify_command(file: Path, key_file: Path | None, passphrase_file: Path | None) -> None:
    """Read FILE through and check its manifest, every table's count and checksum, and its key; no database."""
    from cm_tracker.backup.restore import verify_archive

    began = time.perf_counter()
    try:
        manifest = verify_archive(file, _secret(key_file, passphrase_file, creating=False))
    except BackupError as exc:
        raise _refused(exc) from exc
    click.echo(_summary(manifest, f"{file} is intact:", began))


@backup_cli.command("restore")
@click.argument("file", type=ArchivePath)
@_key_options
def restore_command(file: Path, key_file: Path | None, passphrase_file: Path | None) -> None:
    """Load FILE into the empty database at DATABASE_URL (MIGRATION_DATABASE_URL when set), SQLite or PostgreSQL,
    checking every checksum; a damaged archive or a database with tables is refused with nothing written."""
    from cm_tracker.backup.restore import restore_backup

    began = time.perf_counter()
    config = current_app.extensions["migrate"].migrate.get_config()
    try:
        manifest = restore_backup(file, _owner_url(), config, secret=_secret(key_file, passphrase_file, creating=False),
                                  progress=_progress)
    except BackupError as exc:
        raise _refused(exc) from exc
    click.echo(_summary(manifest, "Restored", began))
    click.echo("On PostgreSQL, now grant the app's role its privileges: flask db grant-runtime ROLE.")


@backup_cli.command("new-key")
@click.argument("file", type=ArchivePath)
def new_key_command(file: Path) -> None:
    """Write a new random backup key to FILE (readable by its owner only); keep a copy away from the archives."""
    try:
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise click.ClickException(f"{file} exists: a key is never overwritten") from exc
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(crypto.new_key_text())
    click.echo(f"Wrote a new backup key to {file}.")
