"""The ledger export writes its rows as the generic CSV path would: times in both forms SQLite's drivers store,
and rows it has checked itself written as every cell through spreadsheet_cell would be (docs/reports.md)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest


@pytest.mark.parametrize("stored", ["2026-11-02 17:00:00", "2026-11-02 17:00:00.000000", "2026-11-02 17:00:00.250000",
                                    "2026-11-02T17:00:00"])
def test_a_stored_sqlite_time_is_written_as_its_utc_iso_form(stored):
    from cm_tracker.services.queries.reports.exports import _utc_text

    assert _utc_text(stored) == datetime.fromisoformat(stored).isoformat() + "+00:00"


def test_checked_rows_are_written_as_they_are_in_their_own_batches_or_re_chunked():
    from cm_tracker.services.queries.reports.exports import CheckedRows, csv_lines

    rows = [(n, "x" if n % 2 else None) for n in range(5)]
    expected = io.StringIO()
    csv.writer(expected).writerows(rows)
    for chunk in (2, 3):
        checked = CheckedRows(iter([rows[:2], rows[2:4], rows[4:]]), 2)
        chunks = list(csv_lines(("n", "w"), checked, chunk=chunk))
        assert "".join(chunks) == f"n,w\r\n{expected.getvalue()}# end of export: 5 rows\r\n"
        assert len(chunks) == (4 if chunk == 2 else 3)
