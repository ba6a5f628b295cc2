"""Fixtures: an app per test session on SQLite (default) or PostgreSQL (TEST_POSTGRES_URL), clean tables per test,
the clock (--clock), a CSRF-on app, and the worlds several folders seed (tests/worlds): the personas, the history
and the clinic built to order."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import Pool

from config import TestConfig

from runtime_role import build_as_owner, runtime_role
from worlds.clinic import Clinic, clinic_world
from worlds.history import History, history_world
from worlds.personas import Personas, personas_world


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
def database_url(owner_database_url: str) -> Iterator[str]:
    """The database as the app connects to it. With TEST_POSTGRES_RUNTIME_ROLE set on PostgreSQL, as production
    runs it (README, "Production deployment"): a runtime role that owns nothing and may only read and insert the
    append-only tables, while the owner builds the schema and empties the tables; otherwise as the owner."""
    if not (os.environ.get("TEST_POSTGRES_RUNTIME_ROLE") and owner_database_url.startswith("postgresql")):
        yield owner_database_url
        return
    yield from runtime_role(owner_database_url)


@pytest.fixture(scope="session")
def owner_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database as the role that owns its tables (TEST_POSTGRES_URL's), or the SQLite file."""
    gen = _postgres_database()
    pg = next(gen)
    if pg:
        yield pg
        next(gen, None)
    else:
        # A file, not memory: concurrency tests need several real connections with WAL.
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url: str, owner_database_url: str) -> Iterator[Flask]:
    from cm_tracker import create_app
    from cm_tracker.extensions import db

    restricted = database_url != owner_database_url

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        MIGRATION_DATABASE_URL = owner_database_url if restricted else None

    application = create_app(Config)
    with application.app_context():
        if restricted:
            build_as_owner(application, str(make_url(database_url).username))
        else:
            db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        if not restricted:  # the runtime role may not drop; the owner drops the whole database
            db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="session")
def owner_engine(app: Flask) -> Iterator[Engine]:
    """The engine that empties the tables after each test: the app's, or the owner's when the app runs as the
    runtime role (which may not delete from the append-only tables)."""
    from cm_tracker.extensions import db

    owner_url = app.config.get("MIGRATION_DATABASE_URL")
    if not owner_url:
        with app.app_context():
            engine = db.engine
        yield engine
        return
    engine = create_engine(owner_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table after each test that used the app, as the owner (bulk deletes bypass the append-only ORM
    guard)."""
    uses_app = "app" in request.fixturenames
    owner: Engine | None = request.getfixturevalue("owner_engine") if uses_app else None
    yield
    if owner is None:
        return
    flask_app: Flask = request.getfixturevalue("app")
    from cm_tracker.extensions import db

    with flask_app.app_context():
        db.session.remove()
        _forget_chain_heads()
        with owner.begin() as conn:
            if conn.dialect.name == "postgresql":
                # DELETE with foreign-key triggers off is far quicker than TRUNCATE on tables this small;
                # sequences restart so that every test sees the same ids whatever ran before it. The replica
                # role also skips the append-only triggers, where the runtime role's schema has them.
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


_CLEANED = 0  # how many times the tables were emptied


def _forget_chain_heads() -> None:
    """The tables are about to be emptied under the apps' pooled connections, each of which remembers where its
    audit lane's head was (services/core/chain.py): each forgets it when it is next checked out (`_on_checkout`),
    as a clinic's connection never has to (its heads move only with its own rows)."""
    global _CLEANED
    _CLEANED += 1


@event.listens_for(Pool, "checkout")
def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    from cm_tracker.services.core import chain

    if record.info.get("tests.cleaned") != _CLEANED:
        chain.forget_audit_head(record.info)
        record.info["tests.cleaned"] = _CLEANED


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def csrf_app(app: Flask, database_url: str) -> Iterator[Flask]:
    """The same database as `app`, with CSRF protection on, as in production."""
    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class CsrfConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        WTF_CSRF_ENABLED = True

    application = create_app(CsrfConfig)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def personas(app: Flask) -> Personas:
    """The personas world (tests/worlds/personas.py): ada (admin), max (manager), cora and otto (counselors) and pat
    (a patient's account), all with helpers.PASSWORD; the "Stimulant vouchers" programme; Pat Patient on Cora's
    caseload and Olive Other on Otto's, enrolled from Mon 2 Nov 2026, nothing recorded."""
    return personas_world(app)


@pytest.fixture
def history(app: Flask, personas: Personas) -> History:
    """The history world (tests/worlds/history.py), on top of the personas, written as rows: Pat earned 85 points on
    2, 4 and 6 Nov 2026, spent 35 (50 left, $12.50), holds 2 draws and has test visits 3 days ago, in 2 days
    (`next_visit`) and in 4 (`later_visit`); Olive earned 10 points."""
    return history_world(app, personas)


@pytest.fixture
def make_clinic(app: Flask, ctx: None) -> Callable[..., Clinic]:
    """Builds a clinic world to order (tests/worlds/clinic.py): `make_clinic(schedule, cap_cents=..., ...)` adds a
    programme, a counselor and one patient enrolled from Mon 5 Jan 2026, inside this test's app context."""
    return partial(clinic_world, app)
