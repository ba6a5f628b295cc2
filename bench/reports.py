"""How fast the manager reports answer on a scaled history, against the targets in docs/reports.md.

Run: PYTHONPATH=. .venv/bin/python bench/reports.py [--patients 10000] [--sqlite PATH] [--postgres URL]
     [--skip-sqlite] [--skip-postgres]

For SQLite (a file, default instance/bench-reports.db) and PostgreSQL (--postgres, else BENCH_POSTGRES_URL, else a
postgresql DATABASE_URL), it builds the scaled history with the same code as `flask demo scale` unless the database
already holds one, then times through the real app (test client, signed in as a manager):
1. the outcomes page of the largest programme, whole episode (target < 1 s);
2. GET /api/v1/reports/outcomes for that programme (target < 1 s);
3. the CSV of the full ledger, streamed: time and rows; and the peak Python memory (tracemalloc) while streaming
   a tenth and half of it, to show memory does not grow with length.
Each time is the best of three. Not part of the test suite: it takes minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, text

from config import TestConfig

TARGET_SECONDS = 1.0
PASSWORD = "bench reports pass phrase"


def make_app(url: str) -> Any:
    from cm_tracker import create_app

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        RATELIMIT_ENABLED = False

    return create_app(Config)


def prepare(app: Any, patients: int) -> tuple[int, str]:
    """Build the scaled history unless present; returns the largest programme's id and the build summary."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, Patient, User
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.usecases import accounts
    from cm_tracker.tooling.scale import build_scale

    with app.app_context():
        db.create_all()
        have = db.session.scalar(select(func.count()).select_from(Patient)) or 0
        built = f"reused {have:,} patients"
        if have < patients:
            began = time.perf_counter()
            result = build_scale(patients - have, seed=int(time.time()) % 100_000, today=clinic_today())
            built = (f"built {result.patients:,} patients ({result.counts.get('specimens', 0):,} specimens) "
                     f"in {time.perf_counter() - began:.0f} s")
        if db.session.scalar(select(User.id).where(User.username == "benchmanager")) is None:
            accounts.create_user(username="benchmanager", password=PASSWORD, role="manager", display_name="Bench")
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        largest = db.session.execute(select(Enrollment.program_id, func.count()).group_by(Enrollment.program_id)
                                     .order_by(func.count().desc()).limit(1)).one()
        return int(largest[0]), f"{built}; largest programme has {largest[1]:,} enrolments"


def best_of(runs: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def stream(client: Any, path: str, stop_after: int | None = None, trace: bool = True) -> tuple[int, int, float]:
    """Read a streamed response chunk by chunk: (rows, bytes, peak traced MiB, 0 when not traced)."""
    if trace:
        tracemalloc.start()
    response = client.get(path, buffered=False)
    rows = size = 0
    for chunk in response.response:
        rows += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
        size += len(chunk)
        if stop_after is not None and rows >= stop_after:
            break
    response.close()
    if not trace:
        return rows, size, 0.0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return rows, size, peak


def measure(name: str, url: str, patients: int) -> list[tuple[str, str, bool | None]]:
    app = make_app(url)
    program_id, built = prepare(app, patients)
    print(f"\n{name}: {built}", flush=True)
    client = app.test_client()
    assert client.post("/sign-in", data={"username": "benchmanager", "password": PASSWORD}).status_code == 302
    token = client.post("/api/v1/auth/tokens", json={"username": "benchmanager", "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}

    def page() -> None:
        assert client.get(f"/reports/outcomes?program_id={program_id}").status_code == 200

    def api() -> None:
        assert client.get(f"/api/v1/reports/outcomes?program_id={program_id}", headers=headers).status_code == 200

    results: list[tuple[str, str, bool | None]] = []
    seconds = best_of(3, page)
    results.append(("outcomes page, whole programme", f"{seconds:.3f} s", seconds < TARGET_SECONDS))
    seconds = best_of(3, api)
    results.append(("GET /api/v1/reports/outcomes", f"{seconds:.3f} s", seconds < TARGET_SECONDS))
    began = time.perf_counter()
    rows, size, _ = stream(client, "/reports/ledger.csv", trace=False)
    took = time.perf_counter() - began
    # tracemalloc slows Python several times over, so memory is traced on a tenth and on half of the ledger.
    _, _, tenth = stream(client, "/reports/ledger.csv", stop_after=max(rows // 10, 1))
    _, _, half = stream(client, "/reports/ledger.csv", stop_after=max(rows // 2, 1))
    flat = half < tenth * 1.5 + 2
    results.append(("ledger CSV, streamed", f"{rows - 1:,} rows, {size / 2**20:.0f} MiB in {took:.1f} s", None))
    results.append(("ledger CSV peak memory", f"{tenth:.1f} MiB at 1/10, {half:.1f} MiB at 1/2", flat))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--sqlite", default=os.path.abspath("instance/bench-reports.db"))
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL") or (
        os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") else ""))
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    targets = [] if args.skip_sqlite else [("SQLite", f"sqlite:///{args.sqlite}")]
    if args.postgres and not args.skip_postgres:
        targets.append(("PostgreSQL", args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)))
    failed = False
    for name, url in targets:
        for label, figure, ok in measure(name, url, args.patients):
            verdict = "" if ok is None else ("PASS" if ok else "FAIL")
            failed |= ok is False
            print(f"  {label:<34} {figure:<48} {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
