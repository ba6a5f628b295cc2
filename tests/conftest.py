"""Fixtures: an app per test session on SQLite (default) or PostgreSQL (TEST_POSTGRES_URL), clean tables per test,
and personas for every role, including a counselor of another caseload (healthchecks-style)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import TestConfig

from helpers import Personas, create_personas


@pytest.fixture(scope="session", autouse=True)
def _cheap_argon2() -> Iterator[None]:
    """Still argon2id, with the smallest cost, so that hundreds of test sign-ins stay quick."""
    from argon2 import PasswordHasher

    from cm_tracker.services import passwords

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
