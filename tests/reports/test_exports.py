"""CSV exports stream in chunks of about a thousand rows and end with a row stating the count, which an export cut
short by an error never has (docs/reports.md, "Exports")."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from reports.report_helpers import without_notice

from helpers import sign_in


def test_rows_stream_a_thousand_at_a_time_and_end_with_their_count():
    from cm_tracker.services.queries.reports.exports import csv_lines

    chunks = list(csv_lines(("n", "word"), ((n, "a,b" if n == 1 else None) for n in range(2500))))
    assert [c.count("\r\n") for c in chunks] == [1, 1000, 1000, 501]
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert rows[0] == ["n", "word"] and rows[2] == ["1", "a,b"] and rows[1] == ["0", ""]
    assert rows[-1] == ["# end of export: 2500 rows"] and len(rows) == 2502


def test_an_export_that_fails_midway_ends_with_its_failure_row_and_no_count():
    from cm_tracker.services.queries.reports.exports import csv_lines

    def rows():
        yield from ((n,) for n in range(1500))
        raise RuntimeError("the database went away")

    received = []
    with pytest.raises(RuntimeError):
        for chunk in csv_lines(("n",), rows()):
            received.append(chunk)
    lines = "".join(received).split("\r\n")
    assert lines[1:1001] == [str(n) for n in range(1000)]  # the chunk sent before the error
    assert lines[1001:] == ["# export failed after 1000 rows: this file is incomplete", ""]
    assert not any("end of export" in line for line in lines)


def test_a_failure_inside_a_chunk_leaves_no_half_written_row_before_the_failure_row():
    from cm_tracker.services.queries.reports.exports import csv_lines

    class Unwritable:
        def __iter__(self):
            yield "half"
            raise OSError("no")

    received = []
    with pytest.raises(OSError):
        for chunk in csv_lines(("a", "b"), [("x", "y"), Unwritable()], chunk=2):
            received.append(chunk)
    assert "".join(received) == "a,b\r\n# export failed after 0 rows: this file is incomplete\r\n"


def test_a_streamed_ledger_that_fails_midway_tells_the_client_keeps_its_audit_row_and_logs_no_value(
        app, client, history, monkeypatch, caplog):
    """Through the route: the chunks already sent, then the failure row the client reads, never the count; the
    export's audit row was committed before the first byte; the log names the failure without the error's text."""
    import logging

    from sqlalchemy.exc import OperationalError

    from cm_tracker.services.core.part2 import CSV_NOTICE_ROW
    from cm_tracker.services.queries.reports import exports

    from api_support import audit_rows

    secret = "Pat " + "Example"  # the traceback quotes this file's lines: the value must come from elsewhere

    def failing(_program_id):
        yield from ((n, "2026-11-02T17:00:00+00:00", None, 1, 1, "P", "award", "t", 5, 0, "1.25", None, None, None)
                    for n in range(1200))
        raise OperationalError("SELECT ...", {}, Exception(secret))

    monkeypatch.setattr(exports, "ledger_rows", failing)
    sign_in(client, "max")
    response = client.get("/reports/ledger.csv")
    assert response.status_code == 200  # the status left before the error: the body has to say it
    received = []
    with caplog.at_level(logging.ERROR), pytest.raises(OperationalError):
        for chunk in response.response:
            received.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
    response.close()
    rows = list(csv.reader(io.StringIO("".join(received))))
    assert rows[0] == list(CSV_NOTICE_ROW) and rows[1][0] == "entry_id" and len(rows) == 1003
    assert rows[-1] == ["# export failed after 1000 rows: this file is incomplete"]
    assert [e.object_id for e in audit_rows(app, "report.export")] == ["ledger"]
    assert "CSV export failed after 1000 rows" in caplog.text and "OperationalError" in caplog.text
    assert secret not in caplog.text


def test_an_empty_export_still_says_it_is_complete():
    from cm_tracker.services.queries.reports.exports import csv_lines

    assert "".join(csv_lines(("n",), iter(()))) == "n\r\n# end of export: 0 rows\r\n"


@pytest.mark.time_machine(datetime(2026, 11, 20, 20, 0, tzinfo=UTC))
def test_the_ledger_export_writes_times_kinds_and_dollars_as_before(client, history):
    """Read from the driver's cursor, the rows still say what the models load: aware UTC times, kinds, dollars."""
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry
    from cm_tracker.money import plain_dollars

    sign_in(client, "max")
    text = without_notice(client.get("/reports/ledger.csv").get_data(as_text=True), notice=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows.pop()["entry_id"] == f"# end of export: {len(rows)} rows"
    with client.application.app_context():
        entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
        expected = [(str(e.id), e.created_at.isoformat(), e.occurred_at.isoformat() if e.occurred_at else "",
                     str(e.kind), e.target_key or "", plain_dollars(e.value_cents),
                     str(e.event_type) if e.event_type else "", "" if e.event_id is None else str(e.event_id))
                    for e in entries]
    assert [(r["entry_id"], r["created_at"], r["occurred_at"], r["kind"], r["target"], r["value_usd"],
             r["event_type"], r["event_id"]) for r in rows] == expected
    assert len(rows) > 2 and rows[0]["created_at"].endswith("+00:00")


def test_gunicorn_runs_threaded_workers_unless_told_otherwise():
    """A sync worker is killed by --timeout in the middle of a long export that has answered 200 already; a gthread
    worker keeps reporting to the arbiter while a thread streams (docs/reports.md, "Exports")."""
    import runpy
    from pathlib import Path

    from gunicorn.config import Config

    settings = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    config = Config()
    for name in ("worker_class", "threads"):
        config.set(name, settings[name])
    assert config.worker_class_str == "gthread" and config.threads == 4
