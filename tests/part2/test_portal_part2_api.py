"""POST /api/v1/me/consents/{id}/revocation-request: a patient asks to revoke their own consent (docs/api.md
"Consents and disclosures"); staff record the revocation itself."""

from __future__ import annotations

import pytest
from consents.conftest import NOW, consent_id, post_disclosure
from sqlalchemy import func, select

from api_support import audit_rows, fields_of
from helpers import api_token

pytestmark = pytest.mark.time_machine(NOW)


def _ask(client, headers, consent: int, body: dict | None = None):
    return client.post(f"/api/v1/me/consents/{consent}/revocation-request", headers=headers,
                       json={} if body is None else body)


def _requests(app) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import ConsentRevocationRequest

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ConsentRevocationRequest))


@pytest.fixture
def cora(client):
    return api_token(client, "cora")


@pytest.fixture
def pat(client):
    return api_token(client, "pat")


def test_a_patient_asks_and_gets_the_consent_as_me_consents_shows_it(app, client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient)
    response = _ask(client, pat, consent, {"note": "I changed my mind"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["id"], body["status"], body["revocation_requested_on"], body["revoked_on"]) == (
        consent, "active", "2027-03-15", None)
    [listed] = client.get("/api/v1/me/consents", headers=pat).get_json()["consents"]
    assert listed == body
    [row] = audit_rows(app, "consent.revocation_request")
    assert (row.patient_id, row.object_id, row.detail) == (personas.patient, str(consent),
                                                           {"requested_on": "2027-03-15"})


def test_staff_see_the_request_on_the_patients_consents(client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient)
    assert _ask(client, pat, consent).status_code == 201
    [listed] = client.get(f"/api/v1/patients/{personas.patient}/consents", headers=cora).get_json()["consents"]
    assert listed["revocation_requested_on"] == "2027-03-15"


def test_a_second_request_is_409_already_requested_and_keeps_one_row(app, client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient)
    assert _ask(client, pat, consent).status_code == 201
    again = _ask(client, pat, consent)
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "already_requested" and "2027-03-15" in error["message"]
    assert _requests(app) == 1


@pytest.mark.parametrize(("case", "code"), [("revoked", "already_revoked"), ("expired", "not_in_effect")])
def test_a_consent_no_longer_in_effect_is_409_with_its_code(app, client, personas, cora, pat, case, code):
    consent = consent_id(client, cora, personas.patient,
                         expires_on="2027-02-28" if case == "expired" else "2027-12-31")
    if case == "revoked":
        assert client.post(f"/api/v1/consents/{consent}/revocation", headers=cora,
                           json={"revoked_on": "2027-03-01"}).status_code == 200
    response = _ask(client, pat, consent)
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, code)
    assert _requests(app) == 0


def test_another_patients_consent_and_an_unknown_id_are_404_and_nothing_is_written(app, client, personas, pat):
    theirs = consent_id(client, api_token(client, "otto"), personas.other_patient)
    for consent in (theirs, 424242):
        response = _ask(client, pat, consent)
        assert (response.status_code, response.get_json()["error"]["code"]) == (404, "not_found")
    assert _requests(app) == 0
    assert [str(r.outcome) for r in audit_rows(app, "consent.revocation_request")] == ["denied", "denied"]


@pytest.mark.parametrize(("note", "message"), [
    ("n" * 1001, "Must be at most 1000 characters."), (5, "Must be a string."),
    ("a\x00b", "Must not contain control characters."),
])
def test_a_malformed_note_is_422_naming_it(app, client, personas, cora, pat, note, message):
    consent = consent_id(client, cora, personas.patient)
    response = _ask(client, pat, consent, {"note": note})
    assert response.status_code == 422 and fields_of(response) == {"note": message}
    assert _requests(app) == 0


def test_staff_cannot_ask_for_the_patient(client, personas, cora):
    consent = consent_id(client, cora, personas.patient)
    assert _ask(client, cora, consent).status_code == 403


def test_the_request_blocks_disclosures_from_its_day_not_before(client, personas, cora, pat):
    consent = consent_id(client, cora, personas.patient)
    assert _ask(client, pat, consent).status_code == 201
    today = post_disclosure(client, cora, personas.patient, consent, disclosed_on="2027-03-15")
    assert (today.status_code, today.get_json()["error"]["code"]) == (409, "no_consent")
    assert post_disclosure(client, cora, personas.patient, consent, disclosed_on="2027-03-12").status_code == 201


def test_a_request_that_loses_the_race_is_409_already_requested(app, client, personas, cora, pat, monkeypatch):
    from cm_tracker.services.usecases import revocation_requests

    consent = consent_id(client, cora, personas.patient)
    assert _ask(client, pat, consent).status_code == 201
    monkeypatch.setattr(revocation_requests, "refusal", lambda view: None)  # as if the first landed after our check
    late = _ask(client, pat, consent)
    assert (late.status_code, late.get_json()["error"]["code"]) == (409, "already_requested")
    assert _requests(app) == 1
