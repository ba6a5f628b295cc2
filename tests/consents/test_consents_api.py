"""Part 2 consents through the API: recording one, its status on the clinic's date, revocation, bad input, and who
may reach whose consents."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consents.conftest import CONSENT, NOW, consent_id, post_consent

from api_support import audit_rows, fields_of
from helpers import api_token

pytestmark = pytest.mark.time_machine(NOW)


def _count(app, model) -> int:
    from cm_tracker.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _consents(client, headers, patient_id) -> list[dict]:
    response = client.get(f"/api/v1/patients/{patient_id}/consents", headers=headers)
    assert response.status_code == 200
    return response.get_json()["consents"]


def test_a_counselor_records_a_consent_of_their_patient_and_it_is_active(app, client, personas):
    response = post_consent(client, api_token(client, "cora"), personas.patient)
    assert response.status_code == 201
    body = response.get_json()
    assert {k: body[k] for k in ("status", "recipient_kind", "recipient", "purpose", "information", "signed_on",
                                 "expires_on", "expiry_event", "discloser", "recorded_by", "revoked_on")} == {
        "status": "active", "recipient_kind": "named", "recipient": CONSENT["recipient"],
        "purpose": CONSENT["purpose"], "information": CONSENT["information"], "signed_on": "2027-01-04",
        "expires_on": "2027-12-31", "expiry_event": None, "discloser": app.config["CLINIC_NAME"],
        "recorded_by": "Cora Counselor", "revoked_on": None}
    [row] = audit_rows(app, "consent.create")
    assert (row.patient_id, row.object_id, row.detail["signed_on"]) == (personas.patient, str(body["id"]),
                                                                         "2027-01-04")


@pytest.mark.parametrize("username", ["ada", "max"])
def test_admins_and_managers_record_consents_of_any_patient(client, personas, username):
    response = post_consent(client, api_token(client, username), personas.other_patient, discloser="Riverside CM")
    assert response.status_code == 201
    assert (response.get_json()["status"], response.get_json()["discloser"]) == ("active", "Riverside CM")


@pytest.mark.parametrize(("expiry", "status"), [
    ({"expires_on": "2027-03-15"}, "active"),  # holds through its expiry day
    ({"expires_on": "2027-03-14"}, "expired"),
    ({"expires_on": None, "expiry_event": "When I leave the programme"}, "active"),
    ({"expires_on": "2027-03-14", "expiry_event": "When I leave the programme"}, "expired"),
])
def test_the_status_follows_the_clinic_date(client, personas, expiry, status):
    headers = api_token(client, "cora")
    created = post_consent(client, headers, personas.patient, **expiry).get_json()
    assert created["status"] == status
    assert [c["status"] for c in _consents(client, headers, personas.patient)] == [status]


def test_a_revocation_makes_the_consent_revoked_and_says_who_and_when(app, client, personas):
    headers = api_token(client, "cora")
    consent = consent_id(client, headers, personas.patient)
    response = client.post(f"/api/v1/consents/{consent}/revocation", headers=headers,
                           json={"revoked_on": "2027-03-10", "note": "Asked in writing"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["revoked_on"], body["revoked_by"], body["revocation_note"]) == (
        "revoked", "2027-03-10", "Cora Counselor", "Asked in writing")
    assert [(c["id"], c["status"]) for c in _consents(client, headers, personas.patient)] == [(consent, "revoked")]
    [row] = audit_rows(app, "consent.revoke")
    assert (row.patient_id, row.detail) == (personas.patient, {"revoked_on": "2027-03-10"})


def test_a_revocation_takes_effect_from_today(client, personas):
    headers = api_token(client, "max")
    consent = consent_id(client, headers, personas.patient)
    body = client.post(f"/api/v1/consents/{consent}/revocation", headers=headers,
                       json={"revoked_on": "2027-03-15"}).get_json()
    assert body["status"] == "revoked"


def test_a_second_revocation_is_409_and_keeps_the_first(client, personas):
    headers = api_token(client, "cora")
    consent = consent_id(client, headers, personas.patient)
    client.post(f"/api/v1/consents/{consent}/revocation", headers=headers, json={"revoked_on": "2027-03-10"})
    again = client.post(f"/api/v1/consents/{consent}/revocation", headers=headers, json={"revoked_on": "2027-03-12"})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_revoked")
    assert _consents(client, headers, personas.patient)[0]["revoked_on"] == "2027-03-10"


@pytest.mark.parametrize(("body", "field"), [
    ({"revoked_on": "2027-01-03"}, "revoked_on"),  # before the signature
    ({"revoked_on": "2027-03-16"}, "revoked_on"),  # after today
    ({"revoked_on": "1989-12-31"}, "revoked_on"),
    ({}, "revoked_on"),
    ({"revoked_on": "2027-03-10", "note": 5}, "note"),
])
def test_a_revocation_that_cannot_be_is_422_naming_the_field(app, client, personas, body, field):
    from cm_tracker.models import ConsentRevocation

    headers = api_token(client, "cora")
    consent = consent_id(client, headers, personas.patient)
    response = client.post(f"/api/v1/consents/{consent}/revocation", headers=headers, json=body)
    assert response.status_code == 422
    assert field in fields_of(response)
    assert _count(app, ConsentRevocation) == 0


def test_an_expiry_before_the_signature_is_422_on_expires_on(app, client, personas):
    from cm_tracker.models import Consent

    response = post_consent(client, api_token(client, "cora"), personas.patient, signed_on="2027-02-01",
                            expires_on="2027-01-31")
    assert response.status_code == 422
    assert fields_of(response) == {"expires_on": "Must not be before the day the consent was signed (signed_on)."}
    assert _count(app, Consent) == 0


@pytest.mark.parametrize(("changes", "field"), [
    ({"recipient": None}, "recipient"),
    ({"purpose": "   "}, "purpose"),
    ({"information": "x" * 2001}, "information"),
    ({"signed_on": "2027-03-16"}, "signed_on"),  # a consent is recorded once signed
    ({"signed_on": "1989-12-31", "expires_on": "2027-12-31"}, "signed_on"),
    ({"signed_on": "2027-02-30"}, "signed_on"),
    ({"expires_on": "2037-03-16"}, "expires_on"),  # more than ten years ahead
    ({"expires_on": None}, "expires_on"),  # neither a date nor an event
    ({"recipient_kind": "friends"}, "recipient_kind"),
    ({"expiry_event": "e" * 501}, "expiry_event"),
    ({"colour": "red"}, "colour"),
])
def test_missing_or_implausible_fields_are_422_naming_the_field(app, client, personas, changes, field):
    from cm_tracker.models import Consent

    response = post_consent(client, api_token(client, "cora"), personas.patient, **changes)
    assert response.status_code == 422
    assert field in fields_of(response)
    assert _count(app, Consent) == 0


def test_a_tpo_consent_names_a_class_of_recipients(client, personas):
    body = post_consent(client, api_token(client, "cora"), personas.patient, recipient_kind="tpo_class",
                        recipient="My treating providers at Riverside Health").get_json()
    assert (body["recipient_kind"], body["recipient"], body["status"]) == (
        "tpo_class", "My treating providers at Riverside Health", "active")


def test_the_list_holds_every_consent_latest_signed_first_with_its_status(client, personas):
    headers = api_token(client, "cora")
    older = consent_id(client, headers, personas.patient, signed_on="2026-01-05", expires_on="2026-12-31")
    revoked = consent_id(client, headers, personas.patient, signed_on="2026-06-01")
    newest = consent_id(client, headers, personas.patient, signed_on="2027-03-01")
    client.post(f"/api/v1/consents/{revoked}/revocation", headers=headers, json={"revoked_on": "2027-02-01"})
    listed = [(c["id"], c["status"]) for c in _consents(client, headers, personas.patient)]
    assert listed == [(newest, "active"), (revoked, "revoked"), (older, "expired")]


def test_reading_a_patients_consents_is_audited(app, client, personas):
    _consents(client, api_token(client, "max"), personas.patient)
    [row] = audit_rows(app, "consents.view")
    assert (row.patient_id, row.username, row.detail) == (personas.patient, "max", {"via": "api"})


def test_a_counselor_of_another_caseload_gets_404_and_nothing_is_written(app, client, personas):
    from cm_tracker.models import Consent, ConsentRevocation

    consent = consent_id(client, api_token(client, "cora"), personas.patient)
    otto = api_token(client, "otto")
    assert post_consent(client, otto, personas.patient).status_code == 404
    assert client.get(f"/api/v1/patients/{personas.patient}/consents", headers=otto).status_code == 404
    revoked = client.post(f"/api/v1/consents/{consent}/revocation", headers=otto, json={"revoked_on": "2027-03-10"})
    assert revoked.status_code == 404
    assert (_count(app, Consent), _count(app, ConsentRevocation)) == (1, 0)


def test_an_unknown_consent_is_404_like_one_out_of_reach(client, personas):
    response = client.post("/api/v1/consents/999/revocation", headers=api_token(client, "ada"),
                           json={"revoked_on": "2027-03-10"})
    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "not_found")


def test_the_patient_reads_only_their_own_consents(app, client, personas):
    mine = consent_id(client, api_token(client, "cora"), personas.patient)
    consent_id(client, api_token(client, "otto"), personas.other_patient)
    pat = api_token(client, "pat")
    response = client.get("/api/v1/me/consents", headers=pat)
    assert [c["id"] for c in response.get_json()["consents"]] == [mine]
    assert client.get(f"/api/v1/patients/{personas.patient}/consents", headers=pat).status_code == 404
    [row] = audit_rows(app, "consents.view")
    assert (row.patient_id, row.detail) == (personas.patient, {"via": "api/me"})
