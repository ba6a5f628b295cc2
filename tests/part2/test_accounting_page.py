"""The accounting of disclosures page (GET /staff/patients/<id>/disclosures, 42 CFR 2.25): the three years up to the
clinic's today by default, the latest first, with each disclosure's consent and packet; a window staff choose, its
errors beside the fields; reach as every Part 2 page; every reading audited with its window."""

from __future__ import annotations

import re

import pytest
from consents.conftest import NOW

from part2.accounting_support import RECIPIENT, TPO_CLASS, accounting_world, add_packet, record

from api_support import audit_rows
from helpers import api_token, sign_in

pytestmark = pytest.mark.time_machine(NOW)


def _page(client, patient, query=""):
    return client.get(f"/staff/patients/{patient}/disclosures{query}")


def _rows(html: str) -> list[str]:
    """The ids of the table's rows, top to bottom."""
    return re.findall(r'<tr id="disclosure-(\d+)"', html)


@pytest.fixture
def world(client, personas):
    return accounting_world(client, personas.patient)


def test_the_default_window_is_the_three_years_up_to_today_the_latest_first(client, personas, world):
    sign_in(client, "cora")
    response = _page(client, personas.patient)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "From Fri 15 Mar 2024 to Mon 15 Mar 2027" in html
    # Exactly three years ago is in; the day before is out.
    assert _rows(html) == [str(world.ids[d]) for d in ("2027-03-15", "2026-07-01", "2024-03-15")]
    assert "Results up to 2024-03-14" not in html


def test_each_line_shows_the_recipient_the_class_the_consent_and_who_recorded_it(client, personas, world):
    sign_in(client, "max")
    html = _page(client, personas.patient).get_data(as_text=True)
    row = html.split(f'id="disclosure-{world.ids["2026-07-01"]}"')[1].split("</tr>")[0]
    assert "Wed 01 Jul 2026" in row and "Dr Lee, Riverside cardiology" in row
    assert f"member of the class: {TPO_CLASS}" in row
    assert "Attendance of June 2026" in row
    assert f'/staff/patients/{personas.patient}/consents#consent-{world.tpo_consent}"' in row
    assert "Treatment and payment" in row and "signed Thu 01 Jun 2023" in row
    assert "Cora Counselor" in row
    named = html.split(f'id="disclosure-{world.ids["2027-03-15"]}"')[1].split("</tr>")[0]
    assert RECIPIENT in named and "member of the class" not in named


def test_a_disclosure_with_a_packet_links_to_it_and_one_without_says_none(app, client, personas, world):
    add_packet(app, world.ids["2026-07-01"])
    sign_in(client, "cora")
    html = _page(client, personas.patient).get_data(as_text=True)
    with_packet = html.split(f'id="disclosure-{world.ids["2026-07-01"]}"')[1].split("</tr>")[0]
    without = html.split(f'id="disclosure-{world.ids["2027-03-15"]}"')[1].split("</tr>")[0]
    assert f'href="/staff/patients/{personas.patient}/disclosures/{world.ids["2026-07-01"]}/packet"' in with_packet
    assert "none printed" in without and "/packet" not in without


def test_a_chosen_window_lists_its_disclosures_and_the_links_keep_it(client, personas, world):
    sign_in(client, "cora")
    html = _page(client, personas.patient, "?from=2024-01-01&to=2024-03-14").get_data(as_text=True)
    assert _rows(html) == [str(world.ids["2024-03-14"])]
    assert 'value="2024-01-01"' in html and 'value="2024-03-14"' in html
    for link in (f"/staff/patients/{personas.patient}/disclosures.csv?from=2024-01-01&amp;to=2024-03-14",
                 f"/staff/patients/{personas.patient}/disclosures/statement?lang=en&amp;from=2024-01-01&amp;to=2024-03-14",
                 f"/staff/patients/{personas.patient}/disclosures/statement?lang=es&amp;from=2024-01-01&amp;to=2024-03-14"):
        assert link in html


def test_an_empty_window_says_there_were_no_disclosures(client, personas, world):
    sign_in(client, "cora")
    html = _page(client, personas.patient, "?from=2024-03-16&to=2026-06-30").get_data(as_text=True)
    assert _rows(html) == []
    assert "There were no disclosures of this patient's records in this period." in html


@pytest.mark.parametrize(("query", "field", "message"), [
    ("?from=2027-13-01", "from", "Not a valid date value."),
    ("?from=1989-12-31", "from", "Must be on or after 1990-01-01."),
    ("?to=2027-03-16", "to", "Must not be after today."),
    ("?from=2027-03-02&to=2027-03-01", "to", "Must not be before the first day (from)."),
])
def test_a_window_that_cannot_be_read_keeps_what_was_typed_and_says_why_beside_the_field(
        client, personas, world, query, field, message):
    sign_in(client, "cora")
    response = _page(client, personas.patient, query)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1)
    for typed in re.findall(r"(?:from|to)=([^&]+)", query):
        assert f'value="{typed}"' in html
    assert _rows(html) == [] and "Download CSV" not in html


def test_a_revoked_consents_earlier_disclosures_stay_listed(client, personas, world):
    cora = api_token(client, "cora")
    revoked = client.post(f"/api/v1/consents/{world.consent}/revocation", headers=cora,
                          json={"revoked_on": "2027-03-15"})
    assert revoked.status_code == 200
    sign_in(client, "cora")
    html = _page(client, personas.patient).get_data(as_text=True)
    assert _rows(html) == [str(world.ids[d]) for d in ("2027-03-15", "2026-07-01", "2024-03-15")]


def test_reading_the_page_is_audited_with_its_window(app, client, personas, world):
    sign_in(client, "cora")
    _page(client, personas.patient, "?from=2026-01-01")
    [row] = audit_rows(app, "disclosures.view")
    assert (row.patient_id, row.detail) == (personas.patient, {"via": "page", "from": "2026-01-01",
                                                               "to": "2027-03-15"})


def test_the_page_links_to_record_a_disclosure(client, personas):
    sign_in(client, "ada")
    html = _page(client, personas.patient).get_data(as_text=True)
    assert f'href="/staff/patients/{personas.patient}/disclosures/new"' in html


@pytest.mark.parametrize("path", ["/disclosures", "/disclosures.csv", "/disclosures/statement?lang=es"])
def test_a_counselor_of_another_caseload_gets_404_and_the_denial_is_audited(app, client, personas, world, path):
    sign_in(client, "otto")
    assert client.get(f"/staff/patients/{personas.patient}{path}").status_code == 404
    [denied] = [row for row in audit_rows(app, "patient.view") if str(row.outcome) == "denied"]
    assert (denied.username, denied.patient_id) == ("otto", personas.patient)
    assert audit_rows(app, "disclosures.view") == [] and audit_rows(app, "report.export") == []


@pytest.mark.parametrize("path", ["/disclosures", "/disclosures.csv", "/disclosures/statement"])
def test_a_patient_gets_404_even_for_their_own_accounting(client, personas, path):
    sign_in(client, "pat")
    assert client.get(f"/staff/patients/{personas.patient}{path}").status_code == 404


def test_an_unknown_patient_is_404(client, personas):
    sign_in(client, "ada")
    assert _page(client, personas.patient + 1000).status_code == 404


def test_a_later_disclosure_recorded_today_appears_first(client, personas, world):
    later = record(client, personas.patient, world.consent, "2027-03-15", description="Letter to the court")
    sign_in(client, "cora")
    html = _page(client, personas.patient).get_data(as_text=True)
    assert _rows(html)[:2] == [str(later), str(world.ids["2027-03-15"])]
