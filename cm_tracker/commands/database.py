"""`flask db grant-runtime ROLE`: the privileges of the role the app runs as on PostgreSQL (README, "Production
deployment"), added to Flask-Migrate's `db` group.

The migrations run as the role that owns the tables (MIGRATION_DATABASE_URL); an owner can disable the append-only
triggers, so the app itself connects (DATABASE_URL) as a role that owns nothing and may only read and insert the
append-only tables. The grants are cm_tracker/data/postgres_roles.sql.
"""

from __future__ import annotations

from importlib.resources import files

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate.cli import db as migrate_cli
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from cm_tracker.extensions import db


class RoleRefused(click.ClickException):
    """The role cannot be the app's runtime role (it does not exist, or could undo the append-only guard)."""


# A role that is, or is a member of, the owner of a table, of the schema or of the database can drop the table or
# disable its triggers whatever it was granted.
REFUSALS = (
    ("is a superuser", "SELECT rolsuper FROM pg_roles WHERE rolname = :role"),
    ("owns (or is a member of a role that owns) a table", "SELECT coalesce(bool_or(pg_has_role(:role, tableowner, "
     "'MEMBER')), false) FROM pg_tables WHERE schemaname = 'public'"),
    ("owns (or is a member of the owner of) the public schema",
     "SELECT pg_has_role(:role, nspowner, 'MEMBER') FROM pg_namespace WHERE nspname = 'public'"),
    ("owns (or is a member of the owner of) the database",
     "SELECT pg_has_role(:role, datdba, 'MEMBER') FROM pg_database WHERE datname = current_database()"),
)


def grant_runtime(connection: Connection, role: str) -> list[str]:
    """Grant `role` the runtime privileges, from nothing; the connection must be the owner's. Returns the
    append-only tables."""
    if connection.dialect.name != "postgresql":
        raise click.ClickException("grant-runtime is for PostgreSQL; SQLite has no roles.")
    if connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first() is None:
        raise RoleRefused(f"role {role!r} does not exist: create it first (CREATE ROLE ... LOGIN, README).")
    for reason, query in REFUSALS:
        if connection.execute(text(query), {"role": role}).scalar():
            raise RoleRefused(f"role {role!r} {reason}, so it could undo the append-only guard; use a role that "
                              "owns nothing.")
    quote = connection.dialect.identifier_preparer.quote_identifier
    tables = db.metadata.sorted_tables
    append_only = [t.name for t in tables if t.info.get("append_only")]
    names = {
        "role": quote(role),
        "database": quote(str(connection.execute(text("SELECT current_database()")).scalar_one())),
        "append_only": ", ".join(map(quote, append_only)),
        "working": ", ".join(quote(t.name) for t in tables if not t.info.get("append_only")),
    }
    for statement in _statements():
        connection.exec_driver_sql(statement.format(**names))
    return append_only


def _statements() -> list[str]:
    script = files("cm_tracker").joinpath("data/postgres_roles.sql").read_text(encoding="utf-8")
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


@migrate_cli.command("grant-runtime")
@click.argument("role")
@with_appcontext
def grant_runtime_command(role: str) -> None:
    """Grant ROLE what the app needs on PostgreSQL and nothing more: read and write the working tables, only read
    and insert the ledger, the audit trail and the record versions. Run it as the tables' owner
    (MIGRATION_DATABASE_URL) after every `flask db upgrade`."""
    url = current_app.config.get("MIGRATION_DATABASE_URL") or current_app.config["SQLALCHEMY_DATABASE_URI"]
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            append_only = grant_runtime(connection, role)
    finally:
        engine.dispose()
    click.echo(f"Granted {role}: read and insert only on {', '.join(append_only)}; read and write on the other "
               "tables; no DDL.")
