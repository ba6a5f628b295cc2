"""The work of bench/web.py (see its docstring): build, start, drive, report; every process it starts is ended."""

from __future__ import annotations

import argparse
import math
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import http_data
from bench._support import Answer, Client, Load, Server, drive, paired, stop_all

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "bench_http"  # its own database, dropped and made anew each run; the tests' tables stay untouched
CLIENTS = 4
ROWS_PER_ACCOUNT = 40  # the limit table: about as many entries per account as a patient has in the ledger
BALANCE_SHARE = 0.35
DESK_RATIO, DESK_MS, PAGE_MS, STATEMENTS = 4.0, 60.0, 100.0, 4
# Environment variables that would change what the servers run (config.py reads the rest with its defaults).
DROPPED = {"DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "CM_ENV", "SECRET_KEY", "FLASK_DEBUG", "FLASK_APP",
           "PYTHONPATH", "RATELIMIT_ENABLED", "PROXY_COUNT"}


@dataclass(frozen=True)
class Row:
    path: str
    figure: str
    limit: str
    ratio: str
    target: str
    ok: bool | None  # None: shown for information, no target


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def postgres_url(base: str) -> str:
    """A fresh database BENCH_DATABASE beside the one `base` names (created through `base`)."""
    import psycopg
    from sqlalchemy.engine import make_url

    plain = base.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    return make_url(plain).set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def server_env(url: str) -> dict[str, str]:
    """Production's configuration (README.md, config.py) on the bench database, with rate limits off: the bench
    signs in and asks for tokens faster than any person would. No REDIS_URL: with the limits off nothing uses it."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env |= {"CM_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": url,
            "AUDIT_CHAIN_KEY": secrets.token_urlsafe(48),
            "RATELIMIT_ENABLED": "false", "PROXY_COUNT": "0"}
    return env


class Desk:
    """Final, all-negative results, one per request, one second apart from 40 minutes ago: always new events in
    time order, within the enrolment and never more than 10 minutes in the future (docs/api.md)."""

    def __init__(self, analytes: tuple[str, ...]) -> None:
        self.analytes = analytes
        self.first = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)

    def body(self, n: int) -> dict[str, Any]:
        return {"collected_at": (self.first + timedelta(seconds=n)).isoformat(), "status": "final",
                "results": dict.fromkeys(self.analytes, "negative"), "validity": "valid", "temperature_ok": True,
                "observed": False, "method": "poc"}


def token_client(port: int, clinic: http_data.Clinic) -> Client:
    answer = Client(port).post_json("/api/v1/auth/tokens", {"username": clinic.counselor,
                                                             "password": clinic.password})
    if answer.status != 201:
        raise RuntimeError(f"POST /api/v1/auth/tokens answered {answer.status}: {answer.body[:200]!r}")
    return Client(port, {"Authorization": f"Bearer {answer.json()['token']}"})


def cycling(client: Client, method: str, paths: list[str], body: Callable[[int], Any] | None = None) \
        -> Callable[[int], Answer]:
    """A load client that requests `paths` in turn (request n on paths[n % len])."""
    if body is None:
        return lambda n: client.request(method, paths[n % len(paths)])
    return lambda n: client.post_json(paths[n % len(paths)], body(n))


def limit_clients(port: int, method: str, route: str, accounts: int, count: int) -> list[Callable[[int], Answer]]:
    """`count` clients of the limit app, each on its own accounts (as each desk client is on its own patients)."""
    return [cycling(Client(port), method, [f"{route}/{a}" for a in range(1 + k, accounts + 1, count)])
            for k in range(count)]


def errors_of(name: str, load: Load) -> list[str]:
    return [f"{name}: {count} x {what}" for what, count in sorted(load.errors.items())]


def measure(name: str, url: str, args: argparse.Namespace, logs: Path) -> tuple[list[Row], list[str]]:
    """Every figure of one database: (table rows, notes)."""
    from bench import limit_app

    began = time.monotonic()
    app = http_data.make_app(url)
    clinic = http_data.build_clinic(app)
    limit_app.seed(url, len(clinic.patient_ids), ROWS_PER_ACCOUNT)
    desk = Desk(clinic.analytes)
    counts = http_data.statements_per_request(app, clinic, desk.body)
    print(f"  {name}: built {len(clinic.patient_ids)} patients ({len(clinic.active_ids)} enrolled today), "
          f"{clinic.specimens:,} specimens in {time.monotonic() - began:.0f} s", flush=True)
    env = server_env(url)
    cm = Server(f"cm-tracker on {name}", "wsgi:app", env, args.workers, logs / "cm-tracker.log")
    limit = Server(f"limit app on {name}", "bench.limit_app:create_app()", env, args.workers, logs / "limit.log")
    cm.wait_ready("/sign-in")
    limit.wait_ready("/sum/1")
    exported = limit_export_rows(limit.port)
    if exported != len(clinic.patient_ids) * ROWS_PER_ACCOUNT:
        raise RuntimeError(f"the limit app's /export gave {exported} rows")
    seconds, notes, accounts = args.seconds, [], len(clinic.patient_ids)

    # a. Balance reads: 4 clients, each with its own token, over the whole caseload.
    paths = [f"/api/v1/patients/{p}/balance" for p in clinic.patient_ids]
    balance, sums = paired([cycling(token_client(cm.port, clinic), "GET", paths[k::CLIENTS]) for k in range(CLIENTS)],
                           limit_clients(limit.port, "GET", "/sum", accounts, CLIENTS), seconds)
    # b. Desk entry: 4 clients, each on its own patients (the one counted in-process, the last, is left out).
    pool = [f"/api/v1/patients/{p}/specimens" for p in clinic.active_ids[:-1]]
    entry, inserts = paired([cycling(token_client(cm.port, clinic), "POST", pool[k::CLIENTS], desk.body)
                             for k in range(CLIENTS)],
                            limit_clients(limit.port, "POST", "/insert", accounts, CLIENTS), seconds,
                            app_ok=(201,), limit_ok=(201,))
    # c, d. Pages at one client, signed in through the form; the limit is one /sum at one client.
    staff, portal = Client(cm.port), Client(cm.port)
    staff.sign_in(clinic.counselor, clinic.password)
    portal.sign_in(clinic.patient, clinic.password)
    warm_every_worker(cm.port, clinic, args.workers)
    one = limit_clients(limit.port, "GET", "/sum", accounts, 1)
    caseload, single = paired([cycling(staff, "GET", ["/staff/"])], one, seconds)
    home, single_again = paired([cycling(portal, "GET", ["/portal/"])], one, seconds)
    single.latencies += single_again.latencies
    single.seconds += single_again.seconds
    cm.stop()
    limit.stop()
    for label, load in (("balance", balance), ("sum", sums), ("desk", entry), ("insert", inserts),
                        ("caseload", caseload), ("portal", home), ("sum x1", single)):
        notes += errors_of(f"{name} {label}", load)
    share = balance.rate / sums.rate if sums.rate else 0.0
    desk_ratio = entry.p95() / inserts.p95() if inserts.p95() else math.inf
    clean = {label: not load.errors for label, load in (("balance", balance), ("desk", entry),
                                                         ("caseload", caseload), ("portal", home))}
    rows = [
        Row(f"GET /api/v1/patients/{{id}}/balance, {CLIENTS} clients", f"{balance.rate:.0f} req/s",
            f"{sums.rate:.0f} req/s", f"{share:.0%}", f">= {BALANCE_SHARE:.0%}",
            share >= BALANCE_SHARE and clean["balance"]),
        Row("  SQL statements per balance read", str(counts["balance"]), "1", "", f"<= {STATEMENTS}",
            counts["balance"] <= STATEMENTS),
        Row(f"POST /api/v1/patients/{{id}}/specimens, {CLIENTS} clients, p95", ms(entry.p95()), ms(inserts.p95()),
            f"{desk_ratio:.1f}x", f"<= {DESK_RATIO:.0f}x, < {DESK_MS:.0f} ms",
            desk_ratio <= DESK_RATIO and entry.p95() * 1000 < DESK_MS and clean["desk"]),
        Row("  SQL statements per desk entry", str(counts["desk"]), "1", "", "", None),
        Row(f"GET /staff/ ({len(clinic.patient_ids)} patients), 1 client, p95", ms(caseload.p95()),
            ms(single.p95()), f"{caseload.p95() / single.p95():.1f}x", f"< {PAGE_MS:.0f} ms",
            caseload.p95() * 1000 < PAGE_MS and clean["caseload"]),
        Row("  SQL statements per caseload page", str(counts["caseload"]), "1", "", "", None),
        Row("GET /portal/ (patient home), 1 client, p95", ms(home.p95()), ms(single.p95()),
            f"{home.p95() / single.p95():.1f}x", f"< {PAGE_MS:.0f} ms",
            home.p95() * 1000 < PAGE_MS and clean["portal"]),
        Row("  SQL statements per portal home", str(counts["portal"]), "1", "", "", None),
    ]
    notes.append(f"{name}: balance p95 {ms(balance.p95())} (limit {ms(sums.p95())}); desk entries "
                 f"{entry.rate:.0f}/s (limit {inserts.rate:.0f}/s); caseload {caseload.rate:.1f} pages/s")
    return rows, notes


def warm_every_worker(port: int, clinic: http_data.Clinic, workers: int) -> None:
    """Each worker's first caseload and portal page, before the one-client figures: a worker's first page compiles
    its templates and statements and opens its connection (200 to 350 ms more), and one client's requests go mostly
    to the same worker (sync workers take turns in no fixed order), so after a warm-up of one client some workers
    were still cold when measured, three answers of 300 ms in sixty, the caseload's p95. As many clients as
    workers keep them all busy, so each answers some."""
    for who, path in ((clinic.counselor, "/staff/"), (clinic.patient, "/portal/")):
        clients = []
        for _ in range(workers):
            client = Client(port)
            client.sign_in(who, clinic.password)
            clients.append(client)
        load = drive([cycling(client, "GET", [path]) for client in clients], 0.5, warmup=1.5)
        if load.errors:
            raise RuntimeError(f"warming {path}: {load.errors}")


def limit_export_rows(port: int) -> int:
    answer = Client(port).request("GET", "/export")
    return answer.body.count(b"\n") - 1 if answer.status == 200 else -1


def print_table(sections: list[tuple[str, list[Row]]]) -> None:
    head = ("path", "figure", "limit", "ratio", "target", "")
    widths = [52, 11, 11, 6, 18, 4]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    print("\n" + line.rstrip())
    print("-" * len(line.rstrip()))
    for name, rows in sections:
        print(name)
        for row in rows:
            verdict = "info" if row.ok is None else ("PASS" if row.ok else "FAIL")
            cells = (row.path, row.figure, row.limit, row.ratio, row.target, verdict)
            print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/web.py", description="cm-tracker over HTTP against the bare "
                                     "limit of its stack (bench/limit_app.py), under gunicorn as in production.")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_POSTGRES,
                        help=f"server to use; the bench works in its own database {BENCH_DATABASE!r} there")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement (default 5)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers, as in production (default 4)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any figure misses its target")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # Ctrl-C and SIGTERM end the run through the finally below, which stops every server (SIGINT's handler is set
    # again because a shell starts a background job with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="cm-bench-http-"))
    sections: list[tuple[str, list[Row]]] = []
    notes: list[str] = []
    started, finished = time.monotonic(), False
    try:
        targets: list[tuple[str, Callable[[], str]]] = []
        if not args.skip_sqlite:
            targets.append(("SQLite", lambda: f"sqlite:///{work / 'bench.db'}"))
        if not args.skip_postgres:
            targets.append(("PostgreSQL", lambda: postgres_url(args.postgres)))
        print(f"bench/web.py: {args.workers} gunicorn workers, {CLIENTS} clients, {args.seconds:g} s per figure; "
              f"logs in {work}", flush=True)
        for name, url in targets:
            rows, found = measure(name, url(), args, work)
            sections.append((name, rows))
            notes += found
        finished = True
    finally:
        stop_all()
        if not finished:
            print(f"bench/web.py stopped early; servers' logs and the SQLite file are in {work}", file=sys.stderr)
    print_table(sections)
    for note in notes:
        print(f"  note: {note}")
    print(f"\ntook {time.monotonic() - started:.0f} s")
    shutil.rmtree(work, ignore_errors=True)
    failed = any(row.ok is False for _, rows in sections for row in rows)
    return 1 if failed and args.strict else 0
