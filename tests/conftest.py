"""Fixtures: an app per test session on SQLite (default) or PostgreSQL (TEST_POSTGRES_URL), clean tables per test,
and personas for every role, including a counselor of another caseload (healthchecks-style)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import TestConfig

from helpers import Personas, create_personas


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock", default=os.environ.get("CM_TEST_CLOCK") or None, metavar="INSTANT",
        help="Start every test at this instant (ISO 8601 with its UTC offset, e.g. 2027-01-03T07:30Z), the clock "
             "ticking from there; CM_TEST_CLOCK sets it too. Tests that pin their own instant keep it.")


def moved_clock(config: pytest.Config) -> datetime | None:
    """The instant the suite was asked to run at, or None for the real clock."""
    value = config.getoption("--clock")
    if not value:
        return None
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise pytest.UsageError(f"--clock needs a UTC offset (Z or +hh:mm): {value!r}")
    return instant


def pytest_report_header(config: pytest.Config) -> str:
    instant = moved_clock(config)
    return f"clock: moved to {instant.isoformat()}" if instant else "clock: real"


@pytest.fixture(autouse=True)
def _clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts at the instant given by --clock (or CM_TEST_CLOCK), so the suite can be run on a Saturday
    night in ISO week 53, on a daylight-saving change or on New Year's Eve as easily as today. A test marked
    `@pytest.mark.time_machine(...)` has pinned its own instant, which wins."""
    instant = moved_clock(request.config)
    if instant is None or request.node.get_closest_marker("time_machine"):
        yield
        return
    with time_machine.travel(instant, tick=True):
        yield


@pytest.fixture(scope="session", autouse=True)
def _cheap_argon2() -> Iterator[None]:
    """Still argon2id, with the smallest cost, so that hundreds of test sign-ins stay quick."""
    from argon2 import PasswordHasher

    from cm_tracker.services.core import passwords

    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = original


def _postgres_database() -> Iterator[str | None]:
    """Create a throw-away PostgreSQL database for this run and drop it afterwards."""
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        yield None
        return
    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"cm_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # The suite commits after every test; a throw-away database need not wait for each commit to reach the
        # disk (a slow disk otherwise doubles the run). Every connection to it inherits the setting.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    gen = _postgres_database()
    pg = next(gen)
    if pg:
        yield pg
        next(gen, None)
    else:
        # A file, not memory: concurrency tests need several real connections with WAL.
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    application = create_app(Config)
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table after each test that used the app (bulk deletes bypass the append-only ORM guard)."""
    yield
    if "app" not in request.fixturenames:
        return
    flask_app: Flask = request.getfixturevalue("app")
    from cm_tracker.extensions import db

    with flask_app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # DELETE with foreign-key triggers off is far quicker than TRUNCATE on tables this small;
                # sequences restart so that every test sees the same ids whatever ran before it.
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                for table in db.metadata.tables.values():
                    conn.execute(table.delete())
                conn.exec_driver_sql(
                    "SELECT setval(s.oid, 1, false) FROM pg_class s WHERE s.relkind = 'S'"
                )
            else:
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                for table in db.metadata.tables.values():
                    conn.execute(table.delete())
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def personas(app: Flask) -> Personas:
    return create_personas(app)
