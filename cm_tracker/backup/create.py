"""`backup create`: every table of the database, read in one snapshot, into one archive.

The snapshot is one read transaction: on PostgreSQL REPEATABLE READ READ ONLY, on SQLite an explicit BEGIN (the
driver would otherwise give every SELECT a snapshot of its own), which WAL keeps consistent while the app writes.
Rows are fetched in batches and spooled table by table, gzip'd, into a folder beside the archive, so memory stays
flat whatever the size of the clinic; the archive is written as FILE.partial and renamed only when complete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import ForeignKeyConstraint, MetaData, Table, create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.ddl import sort_tables_and_constraints

from cm_tracker.backup import crypto
from cm_tracker.backup.archive import FORMAT, VERSION, TableSpool, manifest_digest, write_archive
from cm_tracker.backup.checks import CHECKS
from cm_tracker.backup.codec import portable_type, table_chunks, utc_session
from cm_tracker.backup.errors import BackupError
from cm_tracker.timeutil import utcnow

VERSION_TABLE = "alembic_version"
Progress = Callable[[str, int], None]


@contextmanager
def snapshot(url: str | URL) -> Iterator[Connection]:
    """A connection inside one consistent, read-only transaction of the database at `url`."""
    engine = create_engine(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # so the BEGIN below is the driver's only transaction

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN")
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection = connection.execution_options(isolation_level="REPEATABLE READ",
                                                          postgresql_readonly=True)
            with connection.begin():
                utc_session(connection)
                yield connection
    finally:
        engine.dispose()


def source_tables(connection: Connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(connection, only=lambda name, _meta: name != VERSION_TABLE)
    return metadata


def load_order(metadata: MetaData) -> tuple[list[Table], list[ForeignKeyConstraint]]:
    """The tables, each after those it refers to, and the foreign keys of the cycles no order satisfies (users and
    patients refer to each other): a restore defers those until every row is in."""
    tables: list[Table] = []
    cyclic: list[ForeignKeyConstraint] = []
    for table, constraints in sort_tables_and_constraints(sorted(metadata.tables.values(), key=lambda t: t.name)):
        if table is None:
            cyclic.extend(c for c in constraints if isinstance(c, ForeignKeyConstraint))
        else:
            tables.append(table)
    return tables, cyclic


def revision_of(connection: Connection) -> str:
    if not inspect(connection).has_table(VERSION_TABLE):
        raise BackupError("schema revision", "the database has no alembic_version: was it built with `flask db "
                                             "upgrade`?")
    revisions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(revisions) != 1:
        raise BackupError("schema revision", f"alembic_version holds {len(revisions)} revisions, not one")
    return str(revisions[0])


def create_backup(url: str | URL, out: Path, *, secret: crypto.Secret | None = None,
                  progress: Progress | None = None) -> dict[str, Any]:
    """Write the archive of the database at `url` to `out`; returns its manifest. Inside an app context: the
    manifest's chain check fingerprints the app's AUDIT_CHAIN_KEY."""
    partial = out.with_name(out.name + ".partial")
    try:
        with tempfile.TemporaryDirectory(prefix=".backup-", dir=out.parent) as folder:
            manifest, spools = _dump(url, Path(folder), progress)
            with partial.open("wb") as raw:
                sink: Any = crypto.EncryptingWriter(raw, secret) if secret else raw
                write_archive(sink, manifest, spools)
                if secret:
                    sink.close()
                raw.flush()
                os.fsync(raw.fileno())
        os.replace(partial, out)
    except SQLAlchemyError as exc:
        raise BackupError("database", f"reading the database failed: {exc.__class__.__name__}: {exc}") from exc
    except OSError as exc:
        raise BackupError("archive", f"cannot write {out}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _dump(url: str | URL, folder: Path, progress: Progress | None) -> tuple[dict[str, Any], dict[str, Path]]:
    with snapshot(url) as connection:
        revision = revision_of(connection)
        tables, spools, entries = load_order(source_tables(connection))[0], {}, []
        for index, table in enumerate(tables):
            spool = TableSpool(folder / f"{index:03d}.jsonl.gz")
            for lines, count in table_chunks(connection, table):
                spool.add(lines, count)
            spool.close()
            spools[table.name] = spool.path
            entries.append({"name": table.name, "rows": spool.rows, "sha256": spool.sha.hexdigest(),
                            "columns": [{"name": c.name, "type": portable_type(c)} for c in table.columns]})
            if progress:
                progress(table.name, spool.rows)
        checks = {name: check.produce(connection) for name, check in CHECKS.items()}
        manifest: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "created_at": utcnow().isoformat(),
            "database": connection.dialect.name, "revision": revision, "tables": entries, "checks": checks,
        }
    manifest["digest"] = manifest_digest(manifest)
    return manifest, spools
