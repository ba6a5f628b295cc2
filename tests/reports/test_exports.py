"""CSV exports stream in chunks of about a thousand rows and end with a row stating the count, which an export cut
short by an error never has (docs/reports.md, "Exports")."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from helpers import sign_in


def test_rows_stream_a_thousand_at_a_time_and_end_with_their_count():
    from cm_tracker.services.queries.reports.exports import csv_lines

    chunks = list(csv_lines(("n", "word"), ((n, "a,b" if n == 1 else None) for n in range(2500))))
    assert [c.count("\r\n") for c in chunks] == [1, 1000, 1000, 501]
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert rows[0] == ["n", "word"] and rows[2] == ["1", "a,b"] and rows[1] == ["0", ""]
    assert rows[-1] == ["# end of export: 2500 rows"] and len(rows) == 2502


def test_an_export_that_fails_midway_ends_without_its_count():
    from cm_tracker.services.queries.reports.exports import csv_lines

    def rows():
        yield from ((n,) for n in range(1500))
        raise RuntimeError("the database went away")

    received = []
    with pytest.raises(RuntimeError):
        for chunk in csv_lines(("n",), rows()):
            received.append(chunk)
    text = "".join(received)
    assert text.count("\r\n") == 1001 and "end of export" not in text


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
    text = client.get("/reports/ledger.csv").get_data(as_text=True)
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
