"""Every CSV that names patients (their ids, names or record numbers) opens with the Part 2 notice row, through the
pages and the API alike; the aggregate tables and the funders' de-identified export open with their header
(42 CFR 2.32, docs/reports.md "Identified exports")."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from helpers import api_token, sign_in

IDENTIFIED = [("outcomes", "patients"), ("outcomes", "api"), ("fidelity", "unrecorded"), ("fidelity", "negative"),
              ("budget", "caps")]
AGGREGATE = [("outcomes", "weekly"), ("outcomes", "retention"), ("fidelity", "awards"), ("fidelity", "immediacy"),
             ("fidelity", "cabinet"), ("budget", "months"), ("budget", "forecast")]
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv", response.get_data(as_text=True)[:300]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))


def _notice() -> list[str]:
    from cm_tracker.services.core.part2 import CSV_NOTICE_ROW

    return list(CSV_NOTICE_ROW)


def test_every_report_table_is_declared_identified_or_aggregate():
    from cm_tracker.services.usecases.reports import TABLES

    assert sorted((r, t) for r, tables in TABLES.items() for t in tables) == sorted(IDENTIFIED + AGGREGATE)


@pytest.mark.time_machine(NOW)
@pytest.mark.parametrize(("report", "table"), IDENTIFIED)
def test_an_identified_table_opens_with_the_part2_notice_then_its_header(client, history, personas, report, table):
    sign_in(client, "max")
    rows = _rows(client.get(f"/reports/{report}/{table}.csv?program_id={personas.program}"))
    assert rows[0] == _notice()
    assert rows[1][0] == "patient_id"
    assert rows[-1] == [f"# end of export: {len(rows) - 3} rows"]  # the notice and the header are not counted


@pytest.mark.time_machine(NOW)
@pytest.mark.parametrize(("report", "table"), AGGREGATE)
def test_an_aggregate_table_opens_with_its_header(client, history, personas, report, table):
    sign_in(client, "max")
    rows = _rows(client.get(f"/reports/{report}/{table}.csv?program_id={personas.program}"))
    assert rows[0] != _notice() and "patient_id" not in rows[0] and rows[0][0] != ""
    assert not any(row == _notice() for row in rows)


@pytest.mark.time_machine(NOW)
def test_the_full_ledger_opens_with_the_notice(client, history):
    sign_in(client, "max")
    rows = _rows(client.get("/reports/ledger.csv"))
    assert rows[0] == _notice() and rows[1][:4] == ["entry_id", "created_at", "occurred_at", "patient_id"]
    assert rows[-1] == ["# end of export: 6 rows"]


@pytest.mark.time_machine(NOW)
def test_the_deidentified_funders_export_opens_with_its_header(client, history):
    sign_in(client, "max")
    rows = _rows(client.get("/reports/funders.csv"))
    assert rows[0][:3] == ["program", "funding_source", "year"]
    assert not any(row == _notice() for row in rows)


@pytest.mark.time_machine(NOW)
def test_the_api_csv_carries_the_notice_as_the_page_does(client, history, personas):
    response = client.get(f"/api/v1/reports/outcomes.csv?program_id={personas.program}",
                          headers=api_token(client, "max"))
    rows = _rows(response)
    assert rows[0] == _notice() and rows[1][0] == "patient_id"
    assert sorted(row[0] for row in rows[2:-1]) == sorted([str(personas.patient), str(personas.other_patient)])


@pytest.mark.time_machine(NOW)
def test_the_export_audit_row_says_whether_the_file_was_identified(app, client, history, personas):
    from api_support import audit_rows

    sign_in(client, "max")
    for path in (f"/reports/budget/caps.csv?program_id={personas.program}",
                 f"/reports/budget/months.csv?program_id={personas.program}", "/reports/ledger.csv",
                 "/reports/funders.csv"):
        client.get(path).close()
    found = {e.object_id: e.detail for e in audit_rows(app, "report.export")}
    assert {name: detail.get("identified") for name, detail in found.items()} == {
        "budget/caps": True, "budget/months": False, "ledger": True, "funders": None}
    assert found["funders"] == {"deidentified": True}


def test_the_notice_is_the_rules_short_statement_in_one_cell():
    from cm_tracker.services.core.part2 import CSV_NOTICE_ROW, SHORT_NOTICE

    assert len(CSV_NOTICE_ROW) == 1 and CSV_NOTICE_ROW[0].startswith("# " + SHORT_NOTICE)
