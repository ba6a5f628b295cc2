"""The tamper-evident chain's cost on the desk entry (docs/security.md "Tamper-evident chain").

Run: .venv/bin/python bench/chain.py [--entries 400] [--postgres URL | --skip-postgres]

It builds bench/web.py's clinic (a counselor with 150 patients in their 11th or 12th week) in SQLite (a temporary
file) and in PostgreSQL (its own database `bench_chain` on the server of --postgres, else BENCH_POSTGRES_URL, else
postgresql://postgres@127.0.0.1:5432/test, dropped and made anew), then records final desk results through the API,
in-process with the Flask test client, alternating entries with the chain and without it (its flush listener and its
sealing of plain INSERTs switched off), each on the next active patient. It prints, per database, the desk entry's
p50 and p95 with and without the chain, the chain's own time inside the entries it served (p50, p95, share of the
entry) and the SQL statements an entry runs either way. One client: the figure is what the chain adds to one entry;
under several clients on SQLite it runs inside the database-wide write lock, so writers behind it wait as long
again (bench/web.py measures the entry at 4 clients, with the chain). Not part of the test suite; it exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from bench import http_data
from bench._support import percentile
from bench.http_run import Desk

DATABASE = "bench_chain"
WARM_UP = 20


class Switch:
    """The chain's flush listener, timed, and a switch that takes the whole chain out for one entry (the listener and
    the sealing of plain INSERTs, which the deferred read audit rows use)."""

    def __init__(self) -> None:
        from cm_tracker.extensions import db
        from cm_tracker.services.core import chain

        self.db, self.chain, self.spent = db, chain, []
        self.original, self.sealed = chain._chain_pending, chain.insert_audit
        event.remove(db.session, "before_flush", self.original)
        event.listen(db.session, "before_flush", self.timed)

    def timed(self, *args: Any) -> None:
        started = time.perf_counter()
        self.original(*args)
        self.spent.append(time.perf_counter() - started)

    @contextmanager
    def off(self) -> Iterator[None]:
        event.remove(self.db.session, "before_flush", self.timed)
        self.chain.insert_audit = _unchained_insert
        try:
            yield
        finally:
            self.chain.insert_audit = self.sealed
            event.listen(self.db.session, "before_flush", self.timed)

    def close(self) -> None:
        event.remove(self.db.session, "before_flush", self.timed)
        event.listen(self.db.session, "before_flush", self.original)


def _unchained_insert(connection: Any, rows: list[dict[str, Any]]) -> None:
    """A read's audit rows as they were written before the chain: a plain INSERT."""
    from sqlalchemy import insert

    from cm_tracker.models import AuditEvent

    if rows:
        connection.execute(insert(AuditEvent.__table__), rows)


def measure(url: str, entries: int) -> dict[str, Any]:
    app = http_data.make_app(url)
    clinic = http_data.build_clinic(app)
    desk = Desk(clinic.analytes)
    client = app.test_client()
    answer = client.post("/api/v1/auth/tokens", json={"username": clinic.counselor, "password": clinic.password})
    bearer = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    figures: dict[str, Any] = {"with": [], "without": [], "chain": [], "counts": {}}
    switch = Switch()
    try:
        for n in range(entries + WARM_UP):
            on = n % 2 == 0
            patient = clinic.active_ids[(n // 2) % len(clinic.active_ids)]  # each patient once each way
            switch.spent.clear()
            with http_data.counting(app) as seen, (nullcontext() if on else switch.off()):
                started = time.perf_counter()
                response = client.post(f"/api/v1/patients/{patient}/specimens", headers=bearer, json=desk.body(n))
                took = time.perf_counter() - started
            assert response.status_code == 201, response.get_data(as_text=True)[:300]
            if n < WARM_UP:
                continue
            figures["with" if on else "without"].append(took)
            figures["counts"]["with" if on else "without"] = len(seen)
            if on:
                figures["chain"].append(sum(switch.spent))
    finally:
        switch.close()
    return figures


def _ms(values: list[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:7.1f} ms"


def report(name: str, figures: dict[str, Any]) -> None:
    w, wo, own = figures["with"], figures["without"], figures["chain"]
    print(name)
    print(f"  desk entry without the chain   p50 {_ms(wo, 0.5)}   p95 {_ms(wo, 0.95)}   "
          f"{figures['counts']['without']} statements")
    print(f"  desk entry with the chain      p50 {_ms(w, 0.5)}   p95 {_ms(w, 0.95)}   "
          f"{figures['counts']['with']} statements")
    print(f"  the chain's own work           p50 {_ms(own, 0.5)}   p95 {_ms(own, 0.95)}   "
          f"{100 * sum(own) / sum(w):.1f}% of the entries' time")
    print(f"  p95 difference                 {(percentile(w, 0.95) - percentile(wo, 0.95)) * 1000:+.1f} ms "
          f"({len(w)} entries each way)")


def _fresh_postgres(base: str) -> str:
    url = make_url(base).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    return url.set(database=DATABASE).render_as_string(hide_password=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=400)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("AUDIT_CHAIN_KEY", "bench chain key: not a secret, never used outside this run")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cm-bench-chain-") as folder:
        report("SQLite", measure(f"sqlite:///{folder}/bench.db", args.entries))
    if not args.skip_postgres:
        report("PostgreSQL", measure(_fresh_postgres(args.postgres), args.entries))
    print(f"took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
