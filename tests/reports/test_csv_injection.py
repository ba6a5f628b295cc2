"""No cell of a CSV the product writes runs as a formula in a spreadsheet: text starting with =, +, -, @, a tab or a
carriage return gets a leading single quote (OWASP, "CSV Injection"), while numbers, negative ones too, stay numbers
(docs/reports.md, "Exports")."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

import pytest

from reports.report_helpers import without_notice

from helpers import api_token, sign_in

PAYLOADS = ['=HYPERLINK("http://evil","x")', "+1", "-2+3", "@SUM(A1)", "\tX", "\rX"]
FORMULA = re.compile(r"[=+\-@\t\r]")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _cells(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert re.fullmatch(r"# end of export: \d+ rows", rows[-1][0])
    return rows


def _written(*rows: tuple[object, ...]) -> list[list[str]]:
    from cm_tracker.services.queries.reports.exports import csv_lines

    return _cells("".join(csv_lines(("a", "b"), rows)))[1:-1]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_that_a_spreadsheet_would_run_is_written_as_text(payload):
    assert _written((payload, "Pat " + payload)) == [["'" + payload, "Pat " + payload]]


class _Kind(StrEnum):
    FORMULA = "=1+1"


def test_text_of_any_type_is_neutralised_not_only_plain_strings():
    assert _written((_Kind.FORMULA, "@x"), ("harmless", "plain")) == [["'=1+1", "'@x"], ["harmless", "plain"]]


def test_numbers_stay_numbers_negative_ones_too():
    """Money and point adjustments may be negative: -150 must reach the spreadsheet as the number -150."""
    assert _written((-150, Decimal("-37.50")), (-2.5, "-2.50"), ("-150", 0), (None, True)) == [
        ["-150", "-37.50"], ["-2.5", "-2.50"], ["-150", "0"], ["", "True"]]


def test_no_cell_that_could_run_slips_through_unchanged():
    """The writer writes a chunk as it is when no cell of its text could run; awkward text (quotes, commas, line
    breaks, triggers inside a cell, negative numbers) written a row per chunk comes out as every cell through
    spreadsheet_cell would."""
    from cm_tracker.services.queries.reports.exports import csv_lines, spreadsheet_cell

    rng = random.Random(11)
    pieces = ["=", "+", "-", "@", "\t", "\r", "\n", ",", '"', "'", " ", "a", "1", "2.5", "."]

    def value() -> object:
        roll = rng.random()
        if roll < 0.2:
            return rng.randint(-200, 200)
        return None if roll < 0.25 else "".join(rng.choice(pieces) for _ in range(rng.randint(0, 5)))

    rows = [tuple(value() for _ in range(rng.randint(1, 4))) for _ in range(5000)]
    changed = sum(any(spreadsheet_cell(v) is not v for v in row) for row in rows)
    assert 500 < changed < 4500, "rows of both kinds"
    expected = io.StringIO()
    csv.writer(expected).writerows([[spreadsheet_cell(v) for v in row] for row in rows])
    assert "".join(csv_lines(("h",), rows, chunk=1)) == f"h\r\n{expected.getvalue()}# end of export: 5000 rows\r\n"


@pytest.mark.parametrize("value", ["-1,000", "-5x", "-5.", "-.5", "-5\r\n=1", "-", "-5 ", "x\n-1", "+5", "-5-5"])
def test_text_that_only_looks_like_a_negative_number_is_written_as_text(value):
    """A chunk is written as it is when its text has no cell that may start with a trigger; these come close."""
    from cm_tracker.services.queries.reports.exports import csv_lines, spreadsheet_cell

    rows = [(n, "-2.50", -150, "2026-11-02T17:00:00+00:00") for n in range(999)] + [(1, value, -1, "x")]
    expected = io.StringIO()
    csv.writer(expected).writerows([[spreadsheet_cell(v) for v in row] for row in rows])
    assert spreadsheet_cell(value) != value or value.startswith("x")
    assert "".join(csv_lines(("h",), rows)) == f"h\r\n{expected.getvalue()}# end of export: 1000 rows\r\n"


@pytest.fixture
def poisoned(history, personas, app):
    """The history world with `payload` set as every text a person types that an export shows: Pat's name and record
    number, a manual adjustment's reason (-150 points, which takes Pat's balance below zero), the programme's name and
    funding source, and a cabinet item's name."""
    def poison(payload: str) -> None:
        from sqlalchemy import select

        from cm_tracker.extensions import db
        from cm_tracker.models import Enrollment, EntryKind, LedgerEntry, Patient, Program, Reward, RewardKind

        with app.app_context():
            pat = db.session.get(Patient, personas.patient)
            pat.display_name, pat.record_number = payload, payload
            program = db.session.get(Program, personas.program)
            program.name, program.funding_source = payload, payload
            enrollment = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == pat.id))
            db.session.add(LedgerEntry(patient_id=pat.id, enrollment_id=enrollment.id, kind=EntryKind.MANUAL,
                                       points=-150, value_cents=-3750, reason=payload))
            db.session.add(Reward(program_id=program.id, kind=RewardKind.PRIZE, name=payload, tier="small",
                                  value_cents=500, is_stocked=True))
            db.session.commit()

    return poison


EXPORTS = ["/reports/outcomes/patients.csv", "/reports/budget/caps.csv", "/reports/fidelity/unrecorded.csv",
           "/reports/fidelity/negative.csv", "/reports/fidelity/cabinet.csv", "/reports/ledger.csv",
           "/reports/funders.csv"]
AGGREGATES = {"/reports/fidelity/cabinet.csv", "/reports/funders.csv"}  # no Part 2 notice above their header


@pytest.mark.time_machine(datetime(2026, 11, 20, 20, 0, tzinfo=UTC))
@pytest.mark.parametrize("path", EXPORTS)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_export_writes_what_people_typed_as_text(client, poisoned, path, payload):
    poisoned(payload)
    sign_in(client, "max")
    response = client.get(path)
    assert response.status_code == 200
    cells = [cell for row in _cells(response.get_data(as_text=True)) for cell in row]
    assert "'" + payload in cells
    assert [c for c in cells if FORMULA.match(c) and not PLAIN_NUMBER.fullmatch(c)] == []


@pytest.mark.time_machine(datetime(2026, 11, 20, 20, 0, tzinfo=UTC))
@pytest.mark.parametrize(("path", "column", "expected"), [
    ("/reports/ledger.csv", "points", "-150"),
    ("/reports/ledger.csv", "value_usd", "-37.50"),
    ("/reports/fidelity/negative.csv", "points", "-100"),
    ("/reports/fidelity/negative.csv", "value_usd", "-25.00"),
    # The history world writes no report cache: the outcomes count only the redemption and the adjustment.
    ("/reports/outcomes/patients.csv", "outstanding_usd", "-46.25"),
])
def test_negative_numbers_stay_plain_numbers_in_the_exports(client, poisoned, path, column, expected):
    poisoned("=1+1")
    sign_in(client, "max")
    text = without_notice(client.get(path).get_data(as_text=True), notice=path not in AGGREGATES)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert expected in [row[column] for row in rows]


@pytest.mark.time_machine(datetime(2026, 11, 20, 20, 0, tzinfo=UTC))
def test_the_api_export_keeps_a_negative_balance_a_number(client, poisoned, personas):
    poisoned("=1+1")
    headers = api_token(client, "max")
    text = client.get(f"/api/v1/reports/outcomes.csv?program_id={personas.program}", headers=headers).get_data(
        as_text=True)
    rows = list(csv.DictReader(io.StringIO(without_notice(text, notice=True), newline="")))
    assert [row["outstanding_cents"] for row in rows if row["patient_id"] == str(personas.patient)] == ["-4625"]
