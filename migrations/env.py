"""Alembic environment, run through Flask-Migrate (`flask --app wsgi db upgrade`).

Revision files never import the app's models: they spell out plain SQLAlchemy types, so that an old revision still
runs after the models have moved on.
"""

import logging
from logging.config import fileConfig
from typing import Any

from alembic import context
from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write the app's column types as the plain types they are stored as."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    def process_revision_directives(ctx: Any, revision: Any, directives: list[Any]) -> None:
        # No empty revision when autogenerate finds nothing.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("compare_type", True)
    # The migrations run as the role that owns the tables when one is configured; the app's own role cannot change
    # the schema (README, "Production deployment").
    owner_url = current_app.config.get("MIGRATION_DATABASE_URL")
    engine = create_engine(owner_url, poolclass=NullPool) if owner_url else target_db.engine
    with engine.connect() as connection:
        conf_args["render_as_batch"] = connection.dialect.name == "sqlite"
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            render_item=_render_item,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
