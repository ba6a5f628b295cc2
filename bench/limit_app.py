"""The bare limit of cm-tracker's stack: the fastest a request can be on the same pieces, doing almost nothing.

bench/web.py compares cm-tracker's figures with this app's, measured in the same run on the same machine, so a
figure reads as "what share of the stack's limit the app reaches" instead of a number of milliseconds that moves
with the hardware, the load of the machine and the database. It is what cm-tracker would cost if a request did
only its one unavoidable database round trip: no sign-in, no session, no audit row, no template, no rule.

What it shares with cm-tracker, on purpose:
- Flask 3 with Flask-SQLAlchemy on SQLAlchemy 2, the same versions (requirements.txt);
- the same database URL (DATABASE_URL) and driver settings: the URL and engine options come from cm-tracker's own
  cm_tracker/database.py configure() (psycopg 3 for PostgreSQL, its pool settings; a 30 s timeout for SQLite), and
  each SQLite connection gets the pragmas of its attach() as production runs them: WAL, a 30 s busy timeout,
  foreign keys on and synchronous=FULL (every commit synced to disk);
- gunicorn started as cm-tracker is in production (README.md, "Production deployment": sync workers, 4 of them by
  default), e.g. `gunicorn --workers 4 --bind 127.0.0.1:8001 'bench.limit_app:create_app()'` from the repository
  root, with DATABASE_URL set.

It keeps one table, `limit_entries`, with an index on `account_id`, in the same database as the app under test
(its own table, so cm-tracker's tables and migrations are not touched). Routes:
- `GET /sum/<id>`: one indexed SUM over an account's rows, as JSON (the limit of a balance read);
- `POST /insert/<id>`: one INSERT and a commit, as JSON (the limit of recording a result);
- `GET /export`: a plain SELECT of every row streamed as CSV through csv.writer (the limit of a streamed export).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, stream_with_context
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Integer, event, func, insert, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cm_tracker import database


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class LimitEntry(db.Model):  # type: ignore[name-defined,misc]
    """One row per write: the shape of a ledger entry reduced to what a sum needs."""

    __tablename__ = "limit_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    amount: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def create_app(url: str | None = None) -> Flask:
    """The limit app on `url` (default: DATABASE_URL, as cm-tracker reads it)."""
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config["SQLALCHEMY_DATABASE_URI"] = url or os.environ["DATABASE_URL"]
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    # cm-tracker's own normalisation of the URL (psycopg 3) and its engine options (pool, timeouts), so the limit
    # follows whatever the app's engine does.
    database.configure(app)
    db.init_app(app)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    _routes(app)
    return app


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The same per-connection settings as cm_tracker/database.py attach(), with production's synchronous=FULL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _routes(app: Flask) -> None:
    @app.get("/sum/<int:account_id>")
    def sum_of(account_id: int) -> Response:
        total = db.session.scalar(select(func.coalesce(func.sum(LimitEntry.amount), 0))
                                  .where(LimitEntry.account_id == account_id))
        return jsonify({"account_id": account_id, "total": int(total or 0)})

    @app.post("/insert/<int:account_id>")
    def insert_one(account_id: int) -> tuple[Response, int]:
        entry = LimitEntry(account_id=account_id, amount=10, created_at=datetime.now(UTC))
        db.session.add(entry)
        db.session.commit()
        return jsonify({"id": entry.id, "account_id": account_id}), 201

    @app.get("/export")
    def export() -> Response:
        return Response(stream_with_context(_csv_rows()), mimetype="text/csv")


def _csv_rows() -> Iterator[str]:
    """Every row, read in batches from a server-side cursor where the driver has one, written by csv.writer."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("id", "account_id", "amount", "created_at"))
    statement = select(LimitEntry.id, LimitEntry.account_id, LimitEntry.amount, LimitEntry.created_at) \
        .order_by(LimitEntry.id).execution_options(yield_per=1000)
    for n, row in enumerate(db.session.execute(statement), start=1):
        writer.writerow((row.id, row.account_id, row.amount, row.created_at.isoformat()))
        if n % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def seed(url: str, accounts: int, rows_per_account: int) -> None:
    """Create the table afresh and give each account `rows_per_account` rows (run once, before gunicorn starts)."""
    app = create_app(url)
    with app.app_context():
        LimitEntry.__table__.drop(db.engine, checkfirst=True)
        db.create_all()
        now = datetime.now(UTC)
        rows = [{"account_id": a, "amount": 10 + (a * 7 + n) % 40, "created_at": now}
                for a in range(1, accounts + 1) for n in range(rows_per_account)]
        db.session.execute(insert(LimitEntry), rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # Vacuumed as the cm-tracker bench clinic is (bench/http_data.py says why).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE limit_entries"))
        db.engine.dispose()
