"""Disclosures with and without a packet through the API (docs/api.md "Consents and disclosures"): "records" copies
the patient's records into the disclosure's packet in the same transaction; a refusal writes nothing; each part of
the choice is named in a 422."""

from __future__ import annotations

import hashlib
import json

import pytest

from part2.disclosure_support import NOW, RECIPIENT, November, counts, november_world, stored_packet

from api_support import audit_rows, fields_of

pytestmark = pytest.mark.time_machine(NOW)


@pytest.fixture
def november(app, client, personas) -> November:
    """Pat's November and a consent to disclose it (disclosure_support.november_world)."""
    return november_world(app, client, personas)

RECORDS = {"from": "2026-11-01", "to": "2026-11-30", "include": ["results", "attendance"], "language": "es"}


def _post(client, headers, patient_id, consent, **changes):
    body = {"consent_id": consent, "recipient": RECIPIENT, "disclosed_on": "2026-12-01", **changes}
    return client.post(f"/api/v1/patients/{patient_id}/disclosures", json=body, headers=headers)


def test_a_disclosure_with_records_carries_its_packet(app, client, personas, november):
    response = _post(client, november.headers, personas.patient, november.consent, records=RECORDS)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    packet = stored_packet(app)
    assert body["description"] == "Test results and attendance, 1 November to 30 November 2026"
    assert body["packet"] == {
        "from": "2026-11-01", "to": "2026-11-30", "include": ["results", "attendance"], "language": "es",
        "digest": packet.content_digest,
        "url": f"/staff/patients/{personas.patient}/disclosures/{body['id']}/packet"}
    assert packet.content_digest == hashlib.sha256(packet.content.encode()).hexdigest()
    assert packet.content == json.dumps(packet.records, sort_keys=True)
    assert [s["on"] for s in packet.records["results"]] == ["2026-11-02", "2026-11-04", "2026-11-06", "2026-11-11"]
    [row] = audit_rows(app, "disclosure.create")
    assert row.detail == {"consent_id": november.consent, "disclosed_on": "2026-12-01", "packet": {
        "sections": "results,attendance", "language": "es", "digest": packet.content_digest}}


def test_the_accounting_lists_each_disclosure_with_its_packet_or_none(client, personas, november):
    with_packet = _post(client, november.headers, personas.patient, november.consent, records=RECORDS).get_json()
    without = _post(client, november.headers, personas.patient, november.consent,
                    description="Discharge summary, faxed").get_json()
    assert without["packet"] is None and without["description"] == "Discharge summary, faxed"
    listed = client.get(f"/api/v1/patients/{personas.patient}/disclosures", headers=november.headers).get_json()
    assert [(d["id"], d["packet"]) for d in listed["disclosures"]] == [
        (without["id"], None), (with_packet["id"], with_packet["packet"])]


def test_a_disclosure_without_records_still_needs_its_description(app, client, personas, november):
    response = _post(client, november.headers, personas.patient, november.consent)
    assert fields_of(response) == {
        "description": "Say what was disclosed: required for records sent outside cm-tracker."}
    assert counts(app) == (0, 0)


def test_a_typed_description_is_kept_with_a_packet(client, personas, november):
    response = _post(client, november.headers, personas.patient, november.consent, records=RECORDS,
                     description="November results for the referral")
    assert response.get_json()["description"] == "November results for the referral"


@pytest.mark.parametrize(("records", "fields"), [
    ({**RECORDS, "include": []}, {"records.include": "Choose at least one of results, attendance, rewards, "
                                                    "activities."}),
    ({**RECORDS, "include": ["results", "diagnoses"]}, {"records.include": "Choose at least one of results, "
                                                                          "attendance, rewards, activities."}),
    ({**RECORDS, "include": ["results", "results"]}, {"records.include": "Name each kind of record once."}),
    ({**RECORDS, "include": "results"}, {"records.include": "Must be a list of the kinds of record: results, "
                                                            "attendance, rewards, activities."}),
    ({**RECORDS, "to": "2026-12-02"}, {"records.to": "Must not be after the day disclosed: a packet holds records "
                                                     "that existed then."}),
    ({**RECORDS, "from": "1989-12-31"}, {"records.from": "Must be on or after 1990-01-01."}),
    ({**RECORDS, "from": "2026-11-20", "to": "2026-11-10"}, {"records.to": "Must not be before the first day."}),
    ({**RECORDS, "language": "fr"}, {"records.language": "Must be en or es."}),
    ({**RECORDS, "from": "soon"}, {"records.from": "Must be a date as YYYY-MM-DD."}),
    ({"to": "2026-11-30", "include": ["results"]}, {"records.from": "Required: a date as YYYY-MM-DD."}),
    ({**RECORDS, "colour": "blue"}, {"records.colour": "Unknown field."}),
    ("November", {"records": "Must be an object: from, to, include and language."}),
])
def test_a_choice_the_rules_refuse_is_422_naming_its_field_and_writes_nothing(app, client, personas, november,
                                                                               records, fields):
    response = _post(client, november.headers, personas.patient, november.consent, records=records)
    assert fields_of(response) == fields
    assert counts(app) == (0, 0)


def test_a_refused_disclosure_with_records_writes_neither_the_disclosure_nor_its_packet(app, client, personas,
                                                                                        november):
    response = _post(client, november.headers, personas.patient, november.consent, records=RECORDS,
                     recipient="Riverside Police Department")
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "no_consent")
    assert counts(app) == (0, 0)
    [denied] = audit_rows(app, "disclosure.create")
    assert str(denied.outcome) == "denied"


def test_another_caseloads_counselor_cannot_disclose_with_records(app, client, personas, november):
    from helpers import api_token

    response = _post(client, api_token(client, "otto"), personas.patient, november.consent, records=RECORDS)
    assert response.status_code == 404 and counts(app) == (0, 0)


JUNK = {"null": None, "surrogate": "\udc00", "number": 12, "huge": 10**30, "list": [[]], "object": {"a": 1},
        "early": "0001-01-01", "late": "9999-12-31", "long": "x" * 5000, "nul": "a\x00b"}


@pytest.mark.parametrize("name", ["from", "to", "include", "language"])
def test_junk_inside_records_is_answered_with_an_error_body_never_a_500(app, client, personas, november, name):
    accepted = []
    for kind, value in JUNK.items():
        body = {"consent_id": november.consent, "recipient": RECIPIENT, "disclosed_on": "2026-12-01",
                "records": {**RECORDS, name: value}}
        response = client.open(f"/api/v1/patients/{personas.patient}/disclosures", method="POST",
                               data=json.dumps(body), content_type="application/json", headers=november.headers)
        assert response.status_code in (201, 400, 422), (kind, response.get_data(as_text=True)[:300])
        if kind == "surrogate":  # refused with the body, before any field is read
            assert response.get_json()["error"]["code"] == "malformed_json"
        elif response.status_code == 201:
            accepted.append(kind)
        else:
            assert list(response.get_json()["error"]["fields"]) == [f"records.{name}"], (kind, response.get_json())
    # A language left null is English, as one left out; nothing else is accepted.
    assert accepted == (["null"] if name == "language" else [])
