"""Fixtures of the backup tests: the demo clinic built once per run in a SQLite file of its own (by the migrations,
as production builds it) and its archive; apps on databases made for one test (SQLite files, and PostgreSQL
databases `backup_test_<random>` created on TEST_POSTGRES_URL's server and dropped afterwards); and what two
databases are compared by: every row of every table as the models read it, and every patient's balance."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from click.testing import Result
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from cm_tracker import create_app
from config import TestConfig

# Like the rest of the suite, a run is on SQLite or on PostgreSQL (TEST_POSTGRES_URL): the tests that need no
# PostgreSQL run in the SQLite pass only, so the PostgreSQL pass repeats nothing but the demo clinic's build.
sqlite_pass = pytest.mark.skipif(bool(os.environ.get("TEST_POSTGRES_URL")), reason="runs in the SQLite pass")
INSTANT = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # the demo's history ends the day before
ON = date(2026, 11, 20)  # the day balances and cap use are read on


def _tables() -> int:
    import cm_tracker.models  # noqa: F401  (registers every table)
    from cm_tracker.extensions import db

    return len(db.metadata.tables)


TABLES = _tables()  # every table of the schema, which is every table an archive holds (alembic_version aside)


def make_app(url: str) -> Flask:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    return create_app(Config)


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture(scope="session")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the demo clinic, built by `flask db upgrade` and `flask demo load`."""
    from flask_migrate import upgrade

    from cm_tracker.tooling.demo import load_demo

    path = tmp_path_factory.mktemp("clinic") / "clinic.db"
    app = make_app(f"sqlite:///{path}")
    with time_machine.travel(INSTANT, tick=False), app.app_context():
        upgrade()
        load_demo(ON)
    return path


@pytest.fixture(scope="session")
def clinic_app(clinic: Path) -> Flask:
    return make_app(f"sqlite:///{clinic}")


@pytest.fixture(scope="session")
def clinic_facts(clinic_app: Flask) -> tuple[dict[str, list[tuple[Any, ...]]], dict[int, Any]]:
    """Every row and every balance of the demo clinic, read once."""
    return every_row(clinic_app), every_balance(clinic_app)


@pytest.fixture(scope="session")
def clinic_archive(clinic_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("archive") / "clinic.cmbackup"
    created = run(clinic_app, "backup", "create", str(archive))
    assert created.exit_code == 0, created.output
    return archive


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Callable[[], str]:
    """A new SQLite file's URL each call (the file itself does not exist yet)."""
    def new() -> str:
        return f"sqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:8]}.db'}"

    return new


@pytest.fixture
def postgres_url() -> Iterator[Callable[[], str]]:
    """A new, empty PostgreSQL database's URL each call, every one dropped at the end of the test."""
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        pytest.skip("TEST_POSTGRES_URL is not set")
    server = make_url(base).set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    made: list[str] = []

    def new() -> str:
        name = f"backup_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    yield new
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def every_row(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model's table, as the models load it, in primary-key order."""
    from cm_tracker.extensions import db

    with app.app_context():
        rows = {}
        for mapper in sorted(db.Model.registry.mappers, key=lambda m: m.local_table.name):
            columns = list(mapper.columns)
            found = db.session.execute(select(*columns).order_by(*mapper.primary_key)).all()
            rows[mapper.local_table.name] = [tuple(row) for row in found]
        db.session.remove()
        return rows


def every_balance(app: Flask) -> dict[int, Any]:
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient
    from cm_tracker.services.core.balances import balances_for

    with app.app_context():
        ids = list(db.session.scalars(select(Patient.id)))
        balances = balances_for(ids, on=ON)
        db.session.remove()
        return balances


def table_names(url: str) -> list[str]:
    from sqlalchemy import inspect

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()
