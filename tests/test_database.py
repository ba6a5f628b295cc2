"""Engine settings: SQLite runs with WAL, a busy timeout and foreign keys; PostgreSQL recycles pooled connections
(no pre-ping: a dead one costs a retry of the first read, tests/security/test_disconnects.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from config import TestConfig


def test_sqlite_runs_with_wal_and_a_busy_timeout(tmp_path):
    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'x.db'}"

    with create_app(Config).app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


@pytest.mark.parametrize(("given", "used"), [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
])
def test_postgresql_urls_use_psycopg_with_recycled_connections_and_no_pre_ping(given, used):
    from cm_tracker import create_app

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = given

    app = create_app(Config)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == used
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_recycle"] == 300
    assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_the_migration_url_uses_psycopg_too():
    from cm_tracker import create_app

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = "postgresql://app@h/db"
        MIGRATION_DATABASE_URL = "postgres://owner@h/db"

    assert create_app(Config).config["MIGRATION_DATABASE_URL"] == "postgresql+psycopg://owner@h/db"


def test_the_recycle_age_is_configurable():
    from cm_tracker import create_app

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = "postgresql://u@h/db"
        DATABASE_POOL_RECYCLE_SECONDS = 90

    assert create_app(Config).config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_recycle"] == 90


def test_the_default_database_is_a_file_in_the_instance_folder(monkeypatch):
    from cm_tracker import create_app

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = None

    app = create_app(Config)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/cm_tracker.db"
