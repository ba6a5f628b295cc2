"""How fast the manager reports answer on a scaled history, as ratios to bare queries measured in the same run.

Run: PYTHONPATH=. .venv/bin/python bench/reports.py [--patients 20000] [--sqlite PATH] [--postgres URL]
     [--skip-sqlite] [--skip-postgres] [--runs 3]

For SQLite (a file, default instance/bench-reports.db) and PostgreSQL (--postgres, else BENCH_POSTGRES_URL; a
database of its own, created if missing, never the test database) it builds the scaled history with the same code
as `flask demo scale` unless the database already holds one (the first build takes a few minutes; later runs reuse
it), then measures through the real app (test client, signed in as a manager):
1. the outcomes page and GET /api/v1/reports/outcomes of the largest programme, whole episode (20,000 patients:
   about 10,000 enrolments), against a bare `SELECT enrollment_id, sum(points), sum(value_cents) FROM
   ledger_entries GROUP BY enrollment_id` fetched in full: target under 1 s and at most 3x the bare query;
2. the CSV of the full ledger, streamed, against a bare export of the same rows (the same SELECT through the
   driver's cursor, csv.writer to /dev/null): target at most 1.5x; and the peak memory while streaming a tenth and
   the whole of it (the growth of the process's peak RSS, /proc/self/clear_refs), which must stay flat.
Each time is the best of --runs, the bare query and the app's run in turns. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from config import TestConfig

PASSWORD = "bench reports pass phrase"
OUTCOMES_SECONDS, OUTCOMES_RATIO, CSV_RATIO = 1.0, 3.0, 1.5
BARE_GROUP_BY = "SELECT enrollment_id, sum(points), sum(value_cents) FROM ledger_entries GROUP BY enrollment_id"
Result = tuple[str, str, bool | None]


def make_app(url: str) -> Any:
    from cm_tracker import create_app

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        RATELIMIT_ENABLED = False

    return create_app(Config)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of the benchmark if it does not exist yet."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}) is None:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def prepare(app: Any, patients: int) -> tuple[int, str]:
    """Build the scaled history unless present; returns the largest programme's id and the build summary."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, Patient, User
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.usecases import accounts
    from cm_tracker.tooling.scale import build_scale

    with app.app_context():
        found = inspect(db.engine)
        if found.has_table("enrollment_summaries") and "ledger_through_id" not in {
                c["name"] for c in found.get_columns("enrollment_summaries")}:
            raise SystemExit(f"{db.engine.url.render_as_string()} was built by an older version: delete it first.")
        db.create_all()
        have = db.session.scalar(select(func.count()).select_from(Patient)) or 0
        built = f"reused {have:,} patients"
        if have < patients:
            began = time.perf_counter()
            result = build_scale(patients - have, seed=int(time.time()) % 100_000, today=clinic_today())
            built = (f"built {result.patients:,} patients ({result.counts.get('ledger_entries', 0):,} ledger "
                     f"entries) in {time.perf_counter() - began:.0f} s")
        if db.session.scalar(select(User.id).where(User.username == "benchmanager")) is None:
            accounts.create_user(username="benchmanager", password=PASSWORD, role="manager", display_name="Bench")
        if db.engine.dialect.name == "postgresql":
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        largest = db.session.execute(select(Enrollment.program_id, func.count()).group_by(Enrollment.program_id)
                                     .order_by(func.count().desc()).limit(1)).one()
        return int(largest[0]), f"{built}; largest programme has {largest[1]:,} enrolments"


def best_of_alternating(runs: int, first: Callable[[], Any], second: Callable[[], Any]) -> tuple[float, float]:
    """The best time of each, run in turns (first, second, first, ...), so a busy minute of a shared machine falls
    on both sides of their ratio rather than on one."""
    best = [float("inf"), float("inf")]
    for _ in range(runs):
        for side, work in enumerate((first, second)):
            began = time.perf_counter()
            work()
            best[side] = min(best[side], time.perf_counter() - began)
    return best[0], best[1]


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def peak_growth(work: Callable[[], Any]) -> tuple[float, float] | None:
    """(MiB the process's peak resident memory grew by during `work`, that peak in MiB); None where /proc cannot
    reset the peak."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return None
    before = _rss_kib("VmRSS:")
    work()
    peak = _rss_kib("VmHWM:")
    return max(0, peak - before) / 1024, peak / 1024


def stream(client: Any, path: str, stop_after: int | None = None) -> tuple[int, str]:
    """Read a streamed CSV chunk by chunk into nothing: (lines, last line)."""
    response = client.get(path, buffered=False)
    lines, last = 0, ""
    for chunk in response.response:
        text_chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
        lines += text_chunk.count("\n")
        last = text_chunk or last
        if stop_after is not None and lines >= stop_after:
            break
    response.close()
    return lines, last.rstrip("\r\n").rsplit("\n", 1)[-1]


def bare_export(app: Any) -> int:
    """The ledger export's SELECT through the driver's own cursor, written by csv.writer to /dev/null."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, LedgerEntry, Program

    query = (select(LedgerEntry.id, LedgerEntry.created_at, LedgerEntry.occurred_at, LedgerEntry.patient_id,
                    LedgerEntry.enrollment_id, Program.name, LedgerEntry.kind, LedgerEntry.target_key,
                    LedgerEntry.points, LedgerEntry.draws, LedgerEntry.value_cents, LedgerEntry.event_type,
                    LedgerEntry.event_id, LedgerEntry.reason)
             .join(Enrollment, Enrollment.id == LedgerEntry.enrollment_id)
             .join(Program, Program.id == Enrollment.program_id).order_by(LedgerEntry.id))
    with app.app_context():
        sql = str(query.compile(db.engine))
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor(name="bare") if db.engine.dialect.name == "postgresql" else raw.cursor()
            cursor.execute(sql)
            rows = 0
            with open(os.devnull, "w", newline="") as out:
                writer = csv.writer(out)
                while batch := cursor.fetchmany(1000):
                    writer.writerows(batch)
                    rows += len(batch)
            cursor.close()
        finally:
            raw.close()
    return rows


def bare_group_by(app: Any) -> None:
    from cm_tracker.extensions import db

    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(BARE_GROUP_BY)
            cursor.fetchall()
        finally:
            raw.close()


def measure(name: str, url: str, patients: int, runs: int) -> list[Result]:
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

    results: list[Result] = []
    bares, measured = [], []
    for work in (page, api):  # each against the bare query run in turns with it, as the exports below
        bare, seconds = best_of_alternating(runs, lambda: bare_group_by(app), work)
        bares.append(bare)
        measured.append((bare, seconds))
    results.append(("bare GROUP BY over the ledger", f"{min(bares):.3f} s", None))
    for label, (bare, seconds) in zip(("outcomes page, whole programme", "GET /api/v1/reports/outcomes"), measured,
                                      strict=True):
        ratio = seconds / bare
        results.append((label, f"{seconds:.3f} s = {ratio:.1f}x bare",
                        seconds < OUTCOMES_SECONDS and ratio <= OUTCOMES_RATIO))
    rows = 0

    def bare_csv() -> None:
        nonlocal rows
        rows = bare_export(app)

    lines, last = 0, ""

    def ours() -> None:
        nonlocal lines, last
        lines, last = stream(client, "/reports/ledger.csv")

    bare_seconds, seconds = best_of_alternating(runs, bare_csv, ours)
    results.append(("bare export of the ledger", f"{rows:,} rows in {bare_seconds:.1f} s", None))
    # The Part 2 notice, the header, the rows and the end-of-export row: the ledger names patients (patient ids).
    complete = last == f"# end of export: {rows} rows" and lines == rows + 3
    results.append(("ledger CSV, streamed", f"{seconds:.1f} s = {seconds / bare_seconds:.2f}x bare",
                    seconds <= bare_seconds * CSV_RATIO))
    results.append(("ledger CSV ends with its row count", repr(last), complete))
    tenth = peak_growth(lambda: stream(client, "/reports/ledger.csv", stop_after=max(rows // 10, 1)))
    whole = peak_growth(lambda: stream(client, "/reports/ledger.csv"))
    if tenth is None or whole is None:
        results.append(("ledger CSV peak memory", "not measured (no /proc/self/clear_refs)", None))
    else:
        results.append(("ledger CSV peak memory growth", f"+{tenth[0]:.1f} MiB at 1/10, +{whole[0]:.1f} MiB whole "
                        f"(peak RSS {tenth[1]:.0f}, {whole[1]:.0f} MiB)", whole[0] <= tenth[0] * 1.5 + 8))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=20_000, help="patients in the history (half in the "
                        "largest programme)")
    parser.add_argument("--sqlite", default=os.path.abspath("instance/bench-reports.db"))
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", ""),
                        help="e.g. postgresql://postgres@127.0.0.1:5432/cm_bench_reports (created if missing)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not args.skip_sqlite:  # instance/ is not in a fresh clone
        os.makedirs(os.path.dirname(args.sqlite) or ".", exist_ok=True)
    targets = [] if args.skip_sqlite else [("SQLite", f"sqlite:///{args.sqlite}")]
    if args.postgres and not args.skip_postgres:
        url = args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)
        ensure_database(url)
        targets.append(("PostgreSQL", url))
    failed = False
    for name, url in targets:
        for label, figure, ok in measure(name, url, args.patients, args.runs):
            verdict = "" if ok is None else ("PASS" if ok else "FAIL")
            failed |= ok is False
            print(f"  {label:<36} {figure:<46} {verdict}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
