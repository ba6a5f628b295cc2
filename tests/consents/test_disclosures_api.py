"""Disclosures through the API: each one needs a consent of that patient that holds on the day and names the
recipient (409 no_consent otherwise); the accounting of disclosures lists the past three years, the latest first."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consents.conftest import CONSENT, NOW, consent_id, post_disclosure

from api_support import audit_rows, fields_of
from helpers import api_token

pytestmark = pytest.mark.time_machine(NOW)


def _disclosures(app) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import Disclosure

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Disclosure))


def _accounting(client, headers, patient_id, query=""):
    response = client.get(f"/api/v1/patients/{patient_id}/disclosures{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_disclosure_under_an_active_consent_is_recorded(app, client, personas):
    headers = api_token(client, "cora")
    consent = consent_id(client, headers, personas.patient)
    response = post_disclosure(client, headers, personas.patient, consent)
    assert response.status_code == 201
    body = response.get_json()
    assert {k: v for k, v in body.items() if k != "id"} == {
        "disclosed_on": "2027-03-01", "recipient": CONSENT["recipient"], "description": "Results of February 2027",
        "consent_id": consent, "recorded_by": "Cora Counselor", "purpose": CONSENT["purpose"],
        "recipient_class": None, "packet": None}
    [row] = audit_rows(app, "disclosure.create")
    assert (row.patient_id, row.object_id, row.detail) == (
        personas.patient, str(body["id"]), {"consent_id": consent, "disclosed_on": "2027-03-01"})


def test_the_recipient_is_matched_whatever_its_case_and_spacing(client, personas):
    headers = api_token(client, "max")
    consent = consent_id(client, headers, personas.patient)
    response = post_disclosure(client, headers, personas.patient, consent,
                               recipient="  dr ana  RUIZ, riverside clinic ")
    assert (response.status_code, response.get_json()["recipient"]) == (201, "dr ana  RUIZ, riverside clinic")


def _revoked_on(client, headers, consent, day):
    response = client.post(f"/api/v1/consents/{consent}/revocation", headers=headers, json={"revoked_on": day})
    assert response.status_code == 200


@pytest.mark.parametrize(("case", "disclosure", "reason"), [
    ("expired", {"disclosed_on": "2027-03-01"}, "expired after 2027-02-28"),
    ("signed after", {"disclosed_on": "2027-01-03"}, "signed on 2027-01-04"),
    ("recipient not named", {"recipient": "Riverside Police Department"}, "not this recipient"),
    ("revoked that day", {"disclosed_on": "2027-02-10"}, "revoked on 2027-02-10"),
    ("revoked before", {"disclosed_on": "2027-02-11"}, "revoked on 2027-02-10"),
])
def test_a_disclosure_no_consent_permits_is_409_no_consent(app, client, personas, case, disclosure, reason):
    headers = api_token(client, "cora")
    consent = consent_id(client, headers, personas.patient,
                         expires_on="2027-02-28" if case == "expired" else "2027-12-31")
    if case.startswith("revoked"):
        _revoked_on(client, headers, consent, "2027-02-10")
    response = post_disclosure(client, headers, personas.patient, consent, **disclosure)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "no_consent" and reason in error["message"], error
    assert _disclosures(app) == 0
    [denied] = audit_rows(app, "disclosure.create")
    assert (str(denied.outcome), denied.patient_id, denied.object_id) == ("denied", personas.patient, str(consent))


def test_another_patients_consent_is_409_no_consent_even_to_staff_who_see_both(app, client, personas):
    headers = api_token(client, "ada")
    olives = consent_id(client, headers, personas.other_patient)
    response = post_disclosure(client, headers, personas.patient, olives)
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "no_consent")
    unknown = post_disclosure(client, headers, personas.patient, olives + 100)
    assert (unknown.status_code, unknown.get_json()["error"]["message"]) == (409, response.get_json()["error"][
        "message"])
    assert _disclosures(app) == 0


def test_revocation_stops_later_disclosures_but_not_the_accounting_of_earlier_ones(client, personas):
    headers = api_token(client, "cora")
    consent = consent_id(client, headers, personas.patient)
    earlier = post_disclosure(client, headers, personas.patient, consent, disclosed_on="2027-02-01").get_json()
    _revoked_on(client, headers, consent, "2027-02-15")
    later = post_disclosure(client, headers, personas.patient, consent, disclosed_on="2027-03-01")
    assert later.status_code == 409
    # A disclosure made before the revocation and recorded after it is still permitted.
    before = post_disclosure(client, headers, personas.patient, consent, disclosed_on="2027-02-14")
    assert before.status_code == 201
    listed = _accounting(client, headers, personas.patient)["disclosures"]
    assert [(d["id"], d["disclosed_on"]) for d in listed] == [(before.get_json()["id"], "2027-02-14"),
                                                              (earlier["id"], "2027-02-01")]


@pytest.fixture
def three_years(client, personas) -> dict[str, int]:
    """Disclosures of Pat under one long consent, on the edges of the three years before TODAY (15 Mar 2027)."""
    headers = api_token(client, "cora")
    consent = consent_id(client, headers, personas.patient, signed_on="2023-06-01", expires_on="2028-06-01")
    ids = {}
    for day in ("2024-03-14", "2024-03-15", "2026-07-01", "2027-03-15"):
        response = post_disclosure(client, headers, personas.patient, consent, disclosed_on=day)
        assert response.status_code == 201
        ids[day] = response.get_json()["id"]
    return ids


def test_the_accounting_covers_the_past_three_years_by_default(client, personas, three_years):
    body = _accounting(client, api_token(client, "cora"), personas.patient)
    assert (body["from"], body["to"]) == ("2024-03-15", "2027-03-15")
    assert [d["disclosed_on"] for d in body["disclosures"]] == ["2027-03-15", "2026-07-01", "2024-03-15"]


@pytest.mark.parametrize(("query", "days"), [
    ("?from=2024-01-01", ["2027-03-15", "2026-07-01", "2024-03-15", "2024-03-14"]),
    ("?from=2024-01-01&to=2024-03-14", ["2024-03-14"]),
    ("?to=2026-07-01", ["2026-07-01", "2024-03-15"]),
    ("?from=2026-07-02&to=2027-03-14", []),
])
def test_from_and_to_choose_the_window(client, personas, three_years, query, days):
    body = _accounting(client, api_token(client, "max"), personas.patient, query)
    assert [d["disclosed_on"] for d in body["disclosures"]] == days


@pytest.mark.parametrize(("query", "field"), [("?from=2027-13-01", "from"), ("?to=yesterday", "to"),
                                              ("?from=2027-03-02&to=2027-03-01", "to"), ("?from=0999-01-01", "from"),
                                              ("?to=", "to")])
def test_a_window_that_cannot_be_read_is_422_naming_it(client, personas, query, field):
    response = client.get(f"/api/v1/patients/{personas.patient}/disclosures{query}", headers=api_token(client, "cora"))
    assert response.status_code == 422
    assert list(fields_of(response)) == [field]


def test_reading_the_accounting_is_audited_with_its_window(app, client, personas):
    _accounting(client, api_token(client, "cora"), personas.patient, "?from=2027-01-01")
    [row] = audit_rows(app, "disclosures.view")
    assert (row.patient_id, row.detail) == (personas.patient, {"via": "api", "from": "2027-01-01",
                                                               "to": "2027-03-15"})


@pytest.mark.parametrize(("changes", "field"), [
    ({"disclosed_on": "2027-03-16"}, "disclosed_on"),  # recorded once made
    ({"disclosed_on": "1989-12-31"}, "disclosed_on"),
    ({"disclosed_on": None}, "disclosed_on"),
    ({"description": " "}, "description"),
    ({"recipient": "r" * 201}, "recipient"),
    ({"consent_id": "one"}, "consent_id"),
])
def test_missing_or_implausible_disclosure_fields_are_422_naming_the_field(app, client, personas, changes, field):
    headers = api_token(client, "cora")
    consent = consent_id(client, headers, personas.patient)
    response = post_disclosure(client, headers, personas.patient, consent, **changes)
    assert response.status_code == 422
    assert field in fields_of(response)
    assert _disclosures(app) == 0


def test_a_tpo_consent_covers_a_named_member_and_the_accounting_shows_its_class(client, personas):
    headers = api_token(client, "cora")
    consent = consent_id(client, headers, personas.patient, recipient_kind="tpo_class",
                         recipient="My treating providers at Riverside Health")
    response = post_disclosure(client, headers, personas.patient, consent, recipient="Dr Lee, Riverside cardiology")
    assert response.status_code == 201
    [line] = _accounting(client, headers, personas.patient)["disclosures"]
    assert (line["recipient"], line["recipient_class"]) == ("Dr Lee, Riverside cardiology",
                                                            "My treating providers at Riverside Health")


def test_the_patient_sees_only_who_received_their_own_records(app, client, personas):
    cora, otto = api_token(client, "cora"), api_token(client, "otto")
    mine = post_disclosure(client, cora, personas.patient, consent_id(client, cora, personas.patient)).get_json()
    olives = consent_id(client, otto, personas.other_patient)
    assert post_disclosure(client, otto, personas.other_patient, olives).status_code == 201
    pat = api_token(client, "pat")
    body = client.get("/api/v1/me/disclosures", headers=pat).get_json()
    assert [d["id"] for d in body["disclosures"]] == [mine["id"]]
    assert client.get(f"/api/v1/patients/{personas.other_patient}/disclosures", headers=pat).status_code == 404
    [row] = audit_rows(app, "disclosures.view")
    assert (row.patient_id, row.detail["via"]) == (personas.patient, "api/me")


def test_a_counselor_of_another_caseload_gets_404_and_nothing_is_written(app, client, personas):
    consent = consent_id(client, api_token(client, "cora"), personas.patient)
    otto = api_token(client, "otto")
    assert post_disclosure(client, otto, personas.patient, consent).status_code == 404
    assert client.get(f"/api/v1/patients/{personas.patient}/disclosures", headers=otto).status_code == 404
    assert _disclosures(app) == 0
