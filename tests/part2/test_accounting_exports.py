"""The accounting of disclosures as it leaves the screen: the CSV (the Part 2 notice row, the header, the lines, the
end-of-export row) and the statement printed for the patient in English or Spanish; both audited as identified
exports with their window."""

from __future__ import annotations

import csv
import io

import pytest
from consents.conftest import NOW

from part2.accounting_support import RECIPIENT, TPO_CLASS, accounting_world

from api_support import audit_rows
from helpers import sign_in

pytestmark = pytest.mark.time_machine(NOW)

NOTICE = ("# 42 CFR part 2 prohibits unauthorized use or disclosure of these records. Confidential substance use "
          "disorder patient records; do not redisclose without the patient's written consent.")
HEADER = ["disclosed_on", "recipient", "recipient_class", "description", "consent_id", "consent_purpose",
          "consent_signed_on", "recorded_by"]


@pytest.fixture
def world(client, personas):
    return accounting_world(client, personas.patient)


def _csv(client, patient, query=""):
    response = client.get(f"/staff/patients/{patient}/disclosures.csv{query}")
    return response, list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_has_the_notice_first_then_the_header_the_lines_latest_first_and_the_end_row(
        client, personas, world):
    sign_in(client, "cora")
    response, rows = _csv(client, personas.patient)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="accounting-of-disclosures-MRN-001-2024-03-15-2027-03-15.csv"')
    assert response.headers["Cache-Control"] == "no-store"
    assert rows[0] == [NOTICE]
    assert rows[1] == HEADER
    assert rows[2:-1] == [
        ["2027-03-15", RECIPIENT, "", "Results up to 2027-03-15", str(world.consent), "Coordinating my treatment",
         "2023-06-01", "Cora Counselor"],
        ["2026-07-01", "Dr Lee, Riverside cardiology", TPO_CLASS, "Attendance of June 2026", str(world.tpo_consent),
         "Treatment and payment", "2023-06-01", "Cora Counselor"],
        ["2024-03-15", RECIPIENT, "", "Results up to 2024-03-15", str(world.consent), "Coordinating my treatment",
         "2023-06-01", "Cora Counselor"],
    ]
    assert rows[-1] == ["# end of export: 3 rows"]


def test_the_csv_of_a_chosen_window_is_named_for_it_and_audited_as_an_identified_export(app, client, personas,
                                                                                       world):
    sign_in(client, "max")
    response, rows = _csv(client, personas.patient, "?from=2024-01-01&to=2024-12-31")
    assert response.headers["Content-Disposition"].endswith('-MRN-001-2024-01-01-2024-12-31.csv"')
    assert [r[0] for r in rows[2:-1]] == ["2024-03-15", "2024-03-14"]
    [row] = audit_rows(app, "report.export")
    assert (row.object_type, row.object_id, row.patient_id, row.listed_patient_ids, row.detail) == (
        "report", "accounting", personas.patient, [personas.patient], {"from": "2024-01-01", "to": "2024-12-31"})


def test_an_empty_csv_still_carries_the_notice_and_the_end_row(client, personas):
    sign_in(client, "cora")
    _, rows = _csv(client, personas.patient)
    assert rows == [[NOTICE], HEADER, ["# end of export: 0 rows"]]


@pytest.mark.parametrize(("query", "line"), [("?from=2027-03-02&to=2027-03-01", "to: Must not be before the first day"),
                                             ("?from=03/01/2027", "from: Not a valid date value.")])
def test_a_csv_of_a_window_that_cannot_be_read_is_422_in_plain_text(app, client, personas, query, line):
    sign_in(client, "cora")
    response = client.get(f"/staff/patients/{personas.patient}/disclosures.csv{query}")
    assert (response.status_code, response.mimetype) == (422, "text/plain")
    assert line in response.get_data(as_text=True)
    assert audit_rows(app, "report.export") == []


def _statement(client, patient, query):
    response = client.get(f"/staff/patients/{patient}/disclosures/statement{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def test_the_english_statement_names_the_programme_the_patient_the_window_and_each_disclosure(
        app, client, personas, world):
    sign_in(client, "cora")
    html = _statement(client, personas.patient, "?lang=en")
    assert '<html lang="en">' in html
    assert "<h1 id=\"statement-title\">Accounting of disclosures</h1>" in html
    assert "Pat Patient" in html and "MRN-001" in html
    assert "Friday, March 15, 2024 to Monday, March 15, 2027" in html
    assert "Prepared on</dt><dd>Monday, March 15, 2027" in html
    assert app.config["CLINIC_NAME"] in html
    assert "Jul 1, 2026" in html and "Dr Lee, Riverside cardiology" in html and f"as one of: {TPO_CLASS}" in html
    assert "Attendance of June 2026" in html and "signed on Jun 1, 2023" in html
    assert "42 CFR part 2" in html and "The first list you ask for in any 12 months is free of charge." in html
    assert "Results up to 2024-03-14" not in html


def test_the_spanish_statement_has_spanish_headings_and_dates(client, personas, world):
    sign_in(client, "cora")
    html = _statement(client, personas.patient, "?lang=es&from=2026-01-01")
    assert '<html lang="es">' in html
    assert "<h1 id=\"statement-title\">Informe de divulgaciones</h1>" in html
    for heading in ("Divulgaciones de su expediente", "Acerca de este informe", "Preguntas", "Entregado a",
                    "Qué se divulgó", "Número de expediente"):
        assert heading in html
    assert "Del jueves, 1 de enero de 2026 al lunes, 15 de marzo de 2027" in html
    assert "1 jul 2026" in html and "firmado el 1 jun 2023" in html
    assert "Accounting of disclosures</h1>" not in html
    # The bar above the statement is for staff, in English, and says so to screen readers.
    assert '<nav class="statement-bar" lang="en"' in html and "Back to the accounting" in html


def test_a_statement_with_no_disclosures_says_so(client, personas):
    sign_in(client, "cora")
    html = _statement(client, personas.patient, "?lang=es")
    assert "No se registró ninguna divulgación de su expediente" in html


def test_the_statement_is_audited_as_an_identified_export_with_its_window_and_language(app, client, personas):
    sign_in(client, "ada")
    _statement(client, personas.patient, "?lang=es&to=2027-01-31")
    [row] = audit_rows(app, "report.export")
    assert (row.object_id, row.listed_patient_ids, row.detail) == (
        "accounting-statement", [personas.patient], {"from": "2024-03-15", "to": "2027-01-31", "language": "es"})


def test_a_statement_in_another_language_is_404(client, personas):
    sign_in(client, "cora")
    assert client.get(f"/staff/patients/{personas.patient}/disclosures/statement?lang=fr").status_code == 404


def test_the_staff_page_stays_english_after_a_spanish_statement(client, personas):
    sign_in(client, "cora")
    _statement(client, personas.patient, "?lang=es")
    html = client.get(f"/staff/patients/{personas.patient}/disclosures").get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign out" in html
