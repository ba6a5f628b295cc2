"""`backup restore`: an archive into an empty database, all of it or nothing.

First the whole archive is read and checked (the manifest's digest, every table's count and checksum, a key that
opens it) without touching the database. Then, in one transaction, the schema is built by running the migrations
up to the archive's revision, the rows are inserted table by table (COPY on PostgreSQL), every table is read back
and must give the manifest's checksums, the manifest's checks must verify, and PostgreSQL's sequences are moved past
the restored ids. PostgreSQL's DDL is transactional, so any failure rolls everything back; SQLite is restored into a
new file beside the target, moved into place only once everything verified.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Integer, MetaData, Table, create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from cm_tracker.backup import chain as backup_chain
from cm_tracker.backup import crypto
from cm_tracker.backup.archive import ArchiveReader
from cm_tracker.backup.checks import CHECKS
from cm_tracker.backup.codec import BATCH, decoder, portable_type, table_digest, utc_session
from cm_tracker.backup.create import load_order, source_tables
from cm_tracker.backup.errors import BackupError

Progress = Callable[[str, int], None]


@contextmanager
def open_archive(path: Path, secret: crypto.Secret | None) -> Iterator[ArchiveReader]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise BackupError("archive", f"cannot open {path}: {exc.strerror}") from exc
    with raw:
        if crypto.is_encrypted(raw.read(len(crypto.MAGIC))):
            if secret is None:
                raise BackupError("key", "the archive is encrypted: give --key-file or --passphrase-file")
            raw.seek(0)
            yield ArchiveReader(crypto.DecryptingReader(raw, secret))  # type: ignore[arg-type]
        else:
            raw.seek(0)
            yield ArchiveReader(raw)


def verify_archive(path: Path, secret: crypto.Secret | None) -> dict[str, Any]:
    """Read the whole archive and check it; returns its manifest. Touches no database."""
    with open_archive(path, secret) as reader:
        for _entry, lines in reader.tables(parse=False):
            for _line in lines:
                pass
        unknown = sorted(set(reader.manifest.get("checks", {})) - set(CHECKS))
        if unknown:
            raise BackupError(f"check {unknown[0]}", "this release does not know how to verify it")
        return reader.manifest


def restore_backup(path: Path, url: str | URL, config: Config, *, secret: crypto.Secret | None = None,
                   progress: Progress | None = None) -> dict[str, Any]:
    """Restore the archive at `path` into the empty database at `url` (its owner's URL on PostgreSQL)."""
    manifest = verify_archive(path, secret)
    mismatch = backup_chain.wrong_key(manifest)
    if mismatch:
        raise BackupError("check chain", mismatch)
    script = ScriptDirectory.from_config(config)
    try:
        script.get_revision(manifest["revision"])
    except CommandError as exc:
        raise BackupError("schema revision", f"the archive's revision {manifest['revision']} is unknown to this "
                                             "release (a newer one wrote it?): restore it with that release") from exc
    target = make_url(url)
    try:
        if target.get_backend_name() == "sqlite":
            _restore_sqlite(path, target, config, script, manifest, secret, progress)
        else:
            _restore_server(path, target, config, script, manifest, secret, progress)
    except SQLAlchemyError as exc:
        raise BackupError("database", f"the restore failed and was rolled back: {exc.__class__.__name__}: "
                                      f"{exc}") from exc
    return manifest


def _restore_server(path: Path, url: URL, config: Config, script: ScriptDirectory, manifest: dict[str, Any],
                    secret: crypto.Secret | None, progress: Progress | None) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection, connection.begin():
            tables = inspect(connection).get_table_names()
            if tables:
                raise _not_empty(len(tables))
            _load(connection, path, config, script, manifest, secret, progress)
    finally:
        engine.dispose()


def _restore_sqlite(path: Path, url: URL, config: Config, script: ScriptDirectory, manifest: dict[str, Any],
                    secret: crypto.Secret | None, progress: Progress | None) -> None:
    if not url.database or url.database == ":memory:":
        raise BackupError("target", "restore into a SQLite file, not an in-memory database")
    final = Path(url.database)
    _refuse_a_full_file(final)
    scratch = final.with_name(f".{final.name}.restore-{uuid.uuid4().hex[:8]}")
    engine = create_engine(url.set(database=str(scratch)), poolclass=NullPool)
    # No fsync per statement: the file is nobody's until it is complete, synced once and moved into place.
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=OFF"))
    try:
        with engine.begin() as connection:
            _load(connection, path, config, script, manifest, secret, progress)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
            if broken is not None:
                raise BackupError("foreign keys", f"a row of {broken[0]} refers to a missing row of {broken[2]}")
        with engine.connect() as connection:  # as the app keeps it: readers never block its writer
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        engine.dispose()  # the last connection's close folds the WAL into the file and removes it
        with scratch.open("rb") as written:
            os.fsync(written.fileno())
        _refuse_a_full_file(final)
        for companion in ("-wal", "-shm", "-journal", ""):  # an empty file's leftovers must not meet the new one
            final.with_name(final.name + companion).unlink(missing_ok=True)
        os.replace(scratch, final)
    finally:
        engine.dispose()
        for companion in ("-wal", "-shm", "-journal", ""):
            scratch.with_name(scratch.name + companion).unlink(missing_ok=True)


def _refuse_a_full_file(final: Path) -> None:
    if not final.exists() or final.stat().st_size == 0:
        return
    engine = create_engine(f"sqlite:///{final}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise _not_empty(len(tables))


def _not_empty(tables: int) -> BackupError:
    return BackupError("target empty", f"the database at DATABASE_URL already has {tables} tables: restore only "
                                       "into a new, empty database (nothing was written)")


def _load(connection: Connection, path: Path, config: Config, script: ScriptDirectory, manifest: dict[str, Any],
          secret: crypto.Secret | None, progress: Progress | None) -> None:
    _migrate(connection, config, script, manifest["revision"])
    schema = source_tables(connection)
    _clear_seeded_rows(connection, schema)
    deferred = _defer_cycles(connection, schema)
    with open_archive(path, secret) as reader:
        if reader.manifest != manifest:
            raise BackupError("archive", "the archive changed between its check and the restore")
        for entry, rows in reader.tables():
            table = _matching_table(schema, entry)
            _insert(connection, table, [c["type"] for c in entry["columns"]], rows)
            if progress:
                progress(entry["name"], entry["rows"])
    missing = sorted(set(schema.tables) - {entry["name"] for entry in manifest["tables"]})
    if missing:
        raise BackupError("schema", f"the archive has no table {missing[0]}, which its revision has")
    _check_deferred(connection, deferred)
    _verify_loaded(connection, schema, manifest)
    if connection.dialect.name == "postgresql":
        _advance_sequences(connection, schema)


def _clear_seeded_rows(connection: Connection, schema: MetaData) -> None:
    """Rows a migration writes even into an empty database (the chain's lane heads, say) give way to the archive's,
    which are the same table's rows as they were when the archive was made. Children first, for the foreign keys."""
    quote = connection.dialect.identifier_preparer.quote
    for table in reversed(load_order(schema)[0]):
        if connection.exec_driver_sql(f"SELECT 1 FROM {quote(table.name)} LIMIT 1").first() is not None:
            connection.exec_driver_sql(f"DELETE FROM {quote(table.name)}")


def _defer_cycles(connection: Connection, schema: MetaData) -> list[tuple[str, str]]:
    """On PostgreSQL, let the foreign keys of a cycle wait until _check_deferred, once both tables are in (SQLite
    loads with its foreign keys off and checks them all afterwards)."""
    if connection.dialect.name != "postgresql":
        return []
    quote = connection.dialect.identifier_preparer.quote
    names = [(quote(fk.table.name), quote(str(fk.name))) for fk in load_order(schema)[1]]
    for table, name in names:
        connection.exec_driver_sql(f"ALTER TABLE {table} ALTER CONSTRAINT {name} DEFERRABLE INITIALLY DEFERRED")
    return names


def _check_deferred(connection: Connection, deferred: list[tuple[str, str]]) -> None:
    if not deferred:
        return
    connection.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")  # checks the rows waiting, or raises
    for table, name in deferred:
        connection.exec_driver_sql(f"ALTER TABLE {table} ALTER CONSTRAINT {name} NOT DEFERRABLE")


def _migrate(connection: Connection, config: Config, script: ScriptDirectory, revision: str) -> None:
    """The migrations from nothing up to `revision`, on this connection and inside its transaction."""
    def upgrade(current: Any, _context: Any) -> Any:
        return script._upgrade_revs(revision, current)

    with EnvironmentContext(config, script, fn=upgrade, destination_rev=revision) as environment:
        environment.configure(connection=connection, target_metadata=None,
                              render_as_batch=connection.dialect.name == "sqlite")
        with environment.begin_transaction():
            environment.run_migrations()


def _matching_table(schema: MetaData, entry: dict[str, Any]) -> Table:
    table = schema.tables.get(entry["name"])
    if table is None:
        raise BackupError("schema", f"table {entry['name']} is not in the schema of the archive's revision")
    found = [{"name": c.name, "type": portable_type(c)} for c in table.columns]
    if found != entry["columns"]:
        raise BackupError("schema", f"the columns of {entry['name']} differ from the schema of its revision")
    return table


def _insert(connection: Connection, table: Table, kinds: list[str], rows: Iterator[list[Any]]) -> None:
    """The rows into `table` through the driver itself (COPY on PostgreSQL, executemany on SQLite), beneath
    SQLAlchemy but inside its transaction: the values are already in the forms the database reads."""
    decode = decoder(kinds, connection.dialect)
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in table.columns)
    driver = connection.connection.driver_connection
    assert driver is not None  # a checked-out connection has its driver's
    try:
        if connection.dialect.name == "postgresql":
            with driver.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(decode(row))
            return
        cursor = driver.cursor()
        sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({', '.join('?' for _ in kinds)})"
        while batch := [decode(row) for row in islice(rows, BATCH)]:
            cursor.executemany(sql, batch)
        cursor.close()
    except (ValueError, TypeError) as exc:
        raise BackupError(f"rows of {table.name}", f"a value does not fit its column ({exc})") from exc
    except connection.dialect.loaded_dbapi.Error as exc:
        raise BackupError("database", f"the restore failed and was rolled back: {exc.__class__.__name__}: "
                                      f"{exc}") from exc


def _verify_loaded(connection: Connection, schema: MetaData, manifest: dict[str, Any]) -> None:
    utc_session(connection)
    for entry in manifest["tables"]:
        rows, sha = table_digest(connection, schema.tables[entry["name"]])
        if (rows, sha) != (entry["rows"], entry["sha256"]):
            raise BackupError(f"restored {entry['name']}", "the rows read back from the database differ from the "
                                                           "archive's")
    checks = manifest.get("checks", {})
    for name, check in CHECKS.items():
        if name not in checks and not check.required:
            continue
        problem = check.verify(connection, checks.get(name))
        if problem:
            raise BackupError(f"check {name}", problem)


def _advance_sequences(connection: Connection, schema: MetaData) -> None:
    """New rows must not take a restored row's id: each id sequence resumes after the largest id restored."""
    quote = connection.dialect.identifier_preparer.quote
    for table in schema.tables.values():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                     {"t": quote(table.name), "c": keys[0].name})
        if sequence:
            connection.execute(text(f"SELECT setval(:s, coalesce((SELECT max({quote(keys[0].name)}) FROM "
                                    f"{quote(table.name)}), 0) + 1, false)"), {"s": sequence})

