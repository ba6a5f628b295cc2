"""How fast lab results import, and whether the memory an import takes stays flat as the batch grows.

Run: PYTHONPATH=. .venv/bin/python bench/labs.py [--postgres URL] [--skip-sqlite] [--skip-postgres] [--results N]

A body as a laboratory's batch would be: 2,000 specimens x 5 analytes (methamphetamine, benzoylecgonine, opiates,
fentanyl, cannabinoids; about one result in ten positive, from a fixed seed) over 400 patients enrolled in one
programme, each patient's five specimens a week apart, every one new: 10,000 results, as a CSV and as an equal FHIR
Bundle (a Specimen per accession, an Observation per result). Each import goes through the use case that `flask
labs import` and POST /api/v1/lab-results call (`lab_results.receive`: stored, read, planned, applied and committed
in one transaction), into a fresh database holding only the patients: a SQLite file in a temporary folder, and on
PostgreSQL (--postgres, default postgresql://postgres@127.0.0.1:5432/test: only its server is used) a scratch
database created for the run and dropped at its end.

For each database and format:
1. results per second at 10,000 results (wall clock, tracemalloc off): target at least 1,000/s;
2. the peak of Python's allocations during the import (tracemalloc), at 5,000 results (1,000 specimens, 200
   patients) and at 10,000: flat when the larger batch costs at most 1.25x the smaller (a body held in memory and
   its rows read one at a time); it grows in proportion when every result is held at once.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import TestConfig

RATE_TARGET = 1_000  # results per second
FLAT_RATIO = 1.25
ANALYTES = ("19554-5", "43984-4", "19295-5", "59673-4", "18282-4")
PER_PATIENT = 5  # specimens
SEED = 2026
Result = tuple[str, str, bool | None]


@dataclass(frozen=True)
class Batch:
    results: int
    patients: int
    start_on: date

    @property
    def specimens(self) -> int:
        return self.results // len(ANALYTES)

    def rows(self) -> Iterator[tuple[str, str, datetime, str, str]]:
        """(record number, accession, collected at, LOINC, POS or NEG) of every result, from the fixed seed."""
        chance = random.Random(SEED)
        for n in range(self.specimens):
            patient, visit = divmod(n, PER_PATIENT)
            when = datetime.combine(self.start_on + timedelta(days=1 + 7 * visit), datetime.min.time(), UTC)
            when += timedelta(hours=17, minutes=patient % 60)
            for code in ANALYTES:
                yield (f"B{patient:05d}", f"ACC-B{n:06d}", when, code, "POS" if chance.random() < 0.1 else "NEG")

    def csv(self) -> bytes:
        lines = ["record_number,accession,collected_at,loinc,result,status"]
        lines += [f"{r},{a},{w.isoformat()},{c},{'positive' if v == 'POS' else 'negative'},final"
                  for r, a, w, c, v in self.rows()]
        return ("\n".join(lines) + "\n").encode()

    def fhir(self) -> bytes:
        entries: list[dict[str, Any]] = []
        seen: set[str] = set()
        for record, accession, when, code, value in self.rows():
            if accession not in seen:
                seen.add(accession)
                entries.append({"fullUrl": f"urn:bench:{accession}", "resource": {
                    "resourceType": "Specimen", "accessionIdentifier": {"value": accession},
                    "collection": {"collectedDateTime": when.isoformat()}}})
            entries.append({"resource": {
                "resourceType": "Observation", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": {"identifier": {"value": record}}, "specimen": {"reference": f"urn:bench:{accession}"},
                "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                          "v3-ObservationInterpretation", "code": value}]}]}})
        return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def make_app(url: str) -> Any:
    from cm_tracker import create_app

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLITE_SYNCHRONOUS = "FULL"  # as the app runs, not as the tests do

    return create_app(Config)


def seed(app: Any, batch: Batch) -> None:
    """A fresh schema with the batch's patients enrolled in a stimulant programme from its start day."""
    from cm_tracker.extensions import db
    from cm_tracker.models import CapWindow, Enrollment, Patient, Program, ProgramTarget, ScheduleVersion, TargetKind
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        db.drop_all()
        db.create_all()
        counselor = accounts.create_user(username="benchcounselor", password="bench labs pass phrase",
                                         role="counselor", display_name="Bench Counselor")
        program = Program(name="Bench vouchers", point_value_cents=25, weeks=52, visit_days=["mon", "wed", "fri"],
                          cap_cents=99750, cap_window=CapWindow.EPISODE)
        target = ProgramTarget(key="stimulants", label="stimulants", kind=TargetKind.ABSTINENCE,
                               analytes=["cocaine", "methamphetamine"])
        target.schedule_versions.append(ScheduleVersion(version=1, effective_on=batch.start_on, schedule={
            "kind": "escalating", "start": 10, "step": 5, "bonus_every": 3, "bonus": 40}))
        program.targets.append(target)
        patients = [Patient(display_name=f"Bench {n}", record_number=f"B{n:05d}", counselor_id=counselor.id)
                    for n in range(batch.patients)]
        db.session.add_all([program, *patients])
        db.session.flush()
        db.session.add_all([Enrollment(patient_id=p.id, program_id=program.id, start_on=batch.start_on,
                                       visit_days=["mon", "wed", "fri"]) for p in patients])
        db.session.commit()


def import_once(app: Any, body: bytes, name: str, trace: bool) -> tuple[float, int, dict[str, int]]:
    """(seconds, peak bytes allocated while importing or 0, count of each action) of one import."""
    from cm_tracker.extensions import db
    from cm_tracker.services.usecases.lab_results import format_of, receive

    with app.app_context():
        gc.collect()
        if trace:
            tracemalloc.start()
        began = time.perf_counter()
        imported = receive(body, format_of(None, body, name), sender=None, source=f"file {name}")
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        if trace:
            tracemalloc.stop()
        counts: dict[str, int] = {}
        for outcome in imported.results:
            counts[str(outcome.action)] = counts.get(str(outcome.action), 0) + 1
        db.session.remove()
    return seconds, peak, counts


def fresh(kind: str, scratch: str | None, folder: str) -> Iterator[str]:
    """Database URLs, each fresh: a new SQLite file, or the PostgreSQL scratch database (its schema rebuilt)."""
    n = 0
    while True:
        n += 1
        yield scratch if kind == "PostgreSQL" and scratch else f"sqlite:///{folder}/bench-labs-{n}.db"


def measure(kind: str, urls: Iterator[str], results: int) -> list[Result]:
    start_on = date.today() - timedelta(days=7 * PER_PATIENT + 7)
    big = Batch(results, results // len(ANALYTES) // PER_PATIENT, start_on)
    small = Batch(results // 2, big.patients // 2, start_on)
    out: list[Result] = []
    for fmt, name in (("csv", "bench.csv"), ("fhir", "bench.json")):
        runs: dict[tuple[int, bool], tuple[float, int, dict[str, int]]] = {}
        for batch, trace in ((big, False), (small, True), (big, True)):
            body = batch.csv() if fmt == "csv" else batch.fhir()
            app = make_app(next(urls))
            seed(app, batch)
            runs[(batch.results, trace)] = import_once(app, body, name, trace)
            with app.app_context():
                from cm_tracker.extensions import db

                db.engine.dispose()
            created = runs[(batch.results, trace)][2].get("created", 0)
            if created != batch.specimens:
                out.append((f"{fmt}: {batch.results:,} results", f"only {created} of {batch.specimens} specimens "
                            f"created: {runs[(batch.results, trace)][2]}", False))
        seconds = runs[(big.results, False)][0]
        rate = big.results / seconds
        out.append((f"{kind} {fmt.upper()}: {big.results:,} results", f"{seconds:.1f} s = {rate:,.0f} results/s",
                    rate >= RATE_TARGET))
        low, high = runs[(small.results, True)][1], runs[(big.results, True)][1]
        out.append((f"{kind} {fmt.upper()}: peak allocated", f"{low / 2**20:.1f} MiB at {small.results:,}, "
                    f"{high / 2**20:.1f} MiB at {big.results:,} ({high / low:.2f}x; body {len(body) / 2**20:.1f} "
                    f"MiB)", high <= low * FLAT_RATIO))
    return out


def scratch_database(server_url: str) -> tuple[str, Any]:
    """A new database on the server of `server_url`, and the function that drops it."""
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"cm_bench_labs_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--results", type=int, default=10_000, help="results in the large batch (5 per specimen)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"),
                        help="a PostgreSQL server to make a scratch database on (dropped afterwards)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-labs-") as folder:
        kinds = [] if args.skip_sqlite else ["SQLite"]
        kinds += [] if args.skip_postgres else ["PostgreSQL"]
        for kind in kinds:
            scratch, drop = scratch_database(args.postgres) if kind == "PostgreSQL" else (None, None)
            try:
                for label, figure, ok in measure(kind, fresh(kind, scratch, folder), args.results):
                    verdict = "" if ok is None else ("PASS" if ok else "FAIL")
                    failed |= ok is False
                    print(f"  {label:<36} {figure:<64} {verdict}", flush=True)
            finally:
                if drop is not None:
                    drop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
