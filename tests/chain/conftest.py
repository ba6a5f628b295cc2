"""Chain fixtures: tampering as the tables' owner (as a database administrator could, around the append-only
triggers), checking through the use case, and the worlds of the other folders the write paths need."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from labs.conftest import lab  # noqa: F401  (the lab world, for the lab import's bulk writes)
from rewards.conftest import give, shop  # noqa: F401  (the prize-draw programme, for draws)
from sqlalchemy import text
from sqlalchemy.engine import Engine


@pytest.fixture
def tamper(owner_engine: Engine) -> Callable[[str], None]:
    """Run SQL as the owner with the append-only triggers out of the way: on PostgreSQL the replica role skips
    them (where the runtime role's schema has them); the suite's SQLite schema has none."""

    def run(sql: str) -> None:
        with owner_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.execute(text(sql))

    return run


@pytest.fixture
def verify(app: Flask) -> Callable[..., list[str]]:
    """The chain checked now (optionally from an id): the first break of each table, as the command names them."""

    def check(from_id: int | None = None) -> list[str]:
        from cm_tracker.extensions import db
        from cm_tracker.services.usecases import chain

        with app.app_context():
            report = chain.verify(from_id=from_id)
            db.session.remove()
        return [str(b) for b in report.first_breaks]

    return check
