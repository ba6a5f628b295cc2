"""The PostgreSQL runtime role for TEST_POSTGRES_RUNTIME_ROLE runs (tests/conftest.py): the app connects as a role
of this run's own, granted what production's gets (`flask db grant-runtime`), while the owner (TEST_POSTGRES_URL's
role) builds the schema, its append-only triggers and the grants, and empties the tables after each test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# The revisions whose triggers make tables append-only at the database level (create_all makes no trigger).
APPEND_ONLY_REVISIONS = ("b7e1c0a4d2f9", "fb4690777690", "d2b8f4a6c1e9", "3e7c1a9b5d20", "e6f1a3c5d7b9")


def runtime_role(owner_url: str) -> Iterator[str]:
    """The database's URL as a new login role, dropped afterwards with its grants. Other runs share the server:
    only the role made here is ever dropped."""
    url = make_url(owner_url)
    role, password = f"cm_rt_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
    owner = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with owner.connect() as conn:
        conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"))
    try:
        yield url.set(username=role, password=password).render_as_string(hide_password=False)
    finally:
        with owner.connect() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))  # its grants, which would keep the role from going
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        owner.dispose()


def build_as_owner(application: Flask, role: str) -> None:
    """The schema, its append-only triggers and the runtime role's grants, made by the owner (the app's
    MIGRATION_DATABASE_URL) as in production. Call inside the app's context."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from alembic.script import ScriptDirectory

    from cm_tracker.extensions import db

    script = ScriptDirectory.from_config(application.extensions["migrate"].migrate.get_config())
    owner = create_engine(application.config["MIGRATION_DATABASE_URL"], poolclass=NullPool)
    with owner.begin() as conn:
        # The tables are the models' (as everywhere in the suite), the triggers those the migrations add.
        db.metadata.create_all(conn)
        with Operations.context(MigrationContext.configure(conn)):
            for revision in APPEND_ONLY_REVISIONS:
                script.get_revision(revision).module.upgrade()
    owner.dispose()
    granted = application.test_cli_runner().invoke(args=["db", "grant-runtime", role])
    assert granted.exit_code == 0, granted.output
