"""How long a backup and a restore of the scaled history take, and whether their memory stays flat as it grows.

Run: .venv/bin/python bench/backup.py [--patients 10000] [--small 1000] [--postgres URL]
     [--skip-postgres] [--keep]

For each size (--small, then --patients) it builds the scaled history of `flask demo scale` in a new SQLite file
built by the migrations, then times, each as its own `flask backup ...` process (its peak resident memory, VmHWM,
read as it exits):
1. `backup create` of the SQLite file;
2. `backup restore` of that archive into a new PostgreSQL database (--postgres, default
   postgresql://postgres@127.0.0.1:5432/test: only its server is used; a scratch database per size, dropped at the
   end): the move of a clinic to PostgreSQL;
3. `backup create` of the PostgreSQL database;
4. `backup restore` of that archive into a new SQLite file.
Targets: each under 120 s at --patients (10,000), and memory flat: the peak of each command at --patients at most
1.3x its peak at --small, since rows are streamed in batches and never held. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

# Run as a script, this folder comes first on sys.path; the repository's root must be there for `config`.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from config import TestConfig

ROOT = Path(__file__).resolve().parent.parent
SECONDS_TARGET = 120.0
FLAT_RATIO = 1.3


@dataclass(frozen=True)
class Measure:
    step: str
    patients: int
    seconds: float
    peak_mib: float
    size_mb: float


# The tamper-evident chain's key of this run, for the history built here and every command started (the restores
# verify the chain, and a backup's chain only verifies under the key that made it).
CHAIN_KEY = "bench-backup-audit-chain-key-not-a-secret"


def build(path: Path, patients: int) -> None:
    """The scaled history in a new SQLite file at the migrations' head, in this process."""
    from flask_migrate import upgrade

    from cm_tracker import create_app
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.tooling.scale import build_scale

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"
        AUDIT_CHAIN_KEY = CHAIN_KEY  # the key the commands run with too: a restore verifies the chain with it

    with create_app(Config).app_context():
        upgrade()
        began = time.perf_counter()
        result = build_scale(patients, seed=2026, today=clinic_today())
        rows = sum(result.counts.values())
        print(f"built {patients:,} patients ({rows:,} rows in bulk tables) in {time.perf_counter() - began:.0f} s",
              flush=True)


# The command's own peak, read by the command as it exits: the kernel's ru_maxrss of a child also counts the memory of
# the process it was forked from, before its exec (this one, which built the history).
PEAK_WRAPPER = """
import atexit, os, sys
from flask.cli import main
def peak():
    with open("/proc/self/status") as status, open(os.environ["BENCH_PEAK_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(peak)
sys.argv = ["flask", *sys.argv[1:]]
main()
"""


def flask(step: str, patients: int, url: str, *args: str, archive: Path) -> Measure:
    """One `flask backup ...` in its own process: wall seconds, CPU seconds and the process's peak RSS."""
    peak_file = archive.with_name("peak.txt")
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "BENCH_PEAK_FILE": str(peak_file),
           "AUDIT_CHAIN_KEY": CHAIN_KEY}
    env.pop("MIGRATION_DATABASE_URL", None)
    command = [sys.executable, "-c", PEAK_WRAPPER, "--app", "wsgi", "backup", *args]
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    out = process.stdout.read().decode() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{step} failed: {out}")
    peak_mib = int(peak_file.read_text()) / 1024
    measure = Measure(step, patients, seconds, peak_mib, archive.stat().st_size / 1e6)
    # CPU seconds of the command itself (not the database server's): what a busy machine does not inflate.
    print(f"  {step:<34} {patients:>7,} patients {seconds:>7.1f} s (cpu {usage.ru_utime + usage.ru_stime:>6.1f} s)"
          f"  peak {measure.peak_mib:>6.0f} MiB  archive {measure.size_mb:>6.1f} MB  load {os.getloadavg()[0]:.1f}",
          flush=True)
    return measure


class Scratch:
    """PostgreSQL databases of this run, each dropped at the end."""

    def __init__(self, server: str) -> None:
        self.server = make_url(server).set(drivername="postgresql+psycopg")
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.made: list[str] = []

    def new(self) -> str:
        name = f"bench_backup_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.made.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def drop(self) -> None:
        with self.admin.connect() as conn:
            for name in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def run_size(folder: Path, patients: int, scratch: Scratch | None) -> list[Measure]:
    source, archive = folder / f"source-{patients}.db", folder / f"sqlite-{patients}.cmbackup"
    build(source, patients)
    measures = [flask("create (SQLite)", patients, f"sqlite:///{source}", "create", str(archive), archive=archive)]
    if scratch is None:
        target = folder / f"restored-{patients}.db"
        measures.append(flask("restore SQLite -> SQLite", patients, f"sqlite:///{target}", "restore", str(archive),
                              archive=archive))
        return measures
    on_postgres, again = scratch.new(), folder / f"postgres-{patients}.cmbackup"
    measures.append(flask("restore SQLite -> PostgreSQL", patients, on_postgres, "restore", str(archive),
                          archive=archive))
    measures.append(flask("create (PostgreSQL)", patients, on_postgres, "create", str(again), archive=again))
    measures.append(flask("restore PostgreSQL -> SQLite", patients, f"sqlite:///{folder / f'back-{patients}.db'}",
                          "restore", str(again), archive=again))
    return measures


def report(small: list[Measure], large: list[Measure]) -> bool:
    print(f"\n{'step':<34} {'seconds':>8} {'< 120 s':>8} {'peak MiB':>9} {'ratio':>6} {'flat':>5}")
    good = True
    for little, big in zip(small, large, strict=True):
        ratio = big.peak_mib / little.peak_mib
        fast, flat = big.seconds < SECONDS_TARGET, ratio <= FLAT_RATIO
        good = good and fast and flat
        print(f"{big.step:<34} {big.seconds:>8.1f} {'yes' if fast else 'NO':>8} {big.peak_mib:>9.0f} "
              f"{ratio:>6.2f} {'yes' if flat else 'NO':>5}")
    return good


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--keep", action="store_true", help="Keep the SQLite files and archives (printed).")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-backup-", dir=ROOT / "instance"))
    scratch = None if args.skip_postgres else Scratch(args.postgres)
    try:
        small = run_size(folder, args.small, scratch)
        large = run_size(folder, args.patients, scratch)
        ok = report(small, large)
    finally:
        if scratch:
            scratch.drop()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
