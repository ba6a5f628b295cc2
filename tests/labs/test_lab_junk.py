"""Hostile lab bodies through POST /api/v1/lab-results: each is refused with a 4xx or held, never a 500, and a
refusal applies nothing (values of the wrong JSON shape, control characters and lone surrogates in identifiers,
nesting deeper than the interpreter's stack, bytes that are not text)."""

from __future__ import annotations

import json

import pytest

from helpers import PASSWORD, api_token

pytestmark = pytest.mark.time_machine("2026-12-01T18:00:00Z")

def _obs(**over: object) -> dict[str, object]:
    o = {"resourceType": "Observation", "status": "final", "identifier": [{"value": "ACC-P"}],
         "subject": {"identifier": {"value": "MRN-001"}}, "effectiveDateTime": "2026-11-30T08:30:00-08:00",
         "code": {"coding": [{"system": "http://loinc.org", "code": "19554-5"}]}, "valueString": "negative"}
    o.update(over)
    return o

CASES = {
    "surrogate accession": '{"resourceType":"Observation","status":"final","identifier":[{"value":"\\udc00"}],"subject":{"identifier":{"value":"MRN-001"}},"effectiveDateTime":"2026-11-30T08:30:00-08:00","code":{"coding":[{"system":"http://loinc.org","code":"19554-5"}]},"valueString":"negative"}',
    "surrogate record": '{"resourceType":"Observation","status":"final","identifier":[{"value":"A1"}],"subject":{"identifier":{"value":"\\udc00"}},"effectiveDateTime":"2026-11-30T08:30:00-08:00","code":{"coding":[{"system":"http://loinc.org","code":"19554-5"}]},"valueString":"negative"}',
    "interpretation strings": json.dumps(_obs(interpretation=["POS"])),
    "collection string": json.dumps({"resourceType": "Bundle", "entry": [
        {"fullUrl": "s1", "resource": {"resourceType": "Specimen", "collection": "x"}},
        {"resource": {**_obs(specimen={"reference": "s1"}), "effectiveDateTime": None}}]}),
    "entry resource list": json.dumps({"resourceType": "Bundle", "entry": [{"resource": []}]}),
    "long accession": json.dumps(_obs(identifier=[{"value": "A" * 500}])),
    "nul accession": json.dumps(_obs(identifier=[{"value": "A\u0000B"}])),
    "code dict coding": json.dumps(_obs(code={"coding": {"a": 1}})),
    "valueQuantity str": json.dumps(_obs(valueQuantity={"value": "abc"})),
    "deep nesting": "[" * 100000,
}
HL7 = {
    "nul hl7": (b"MSH|^~\\&|L|F|C|C|20261130||ORU^R01|1|P|2.5.1\rPID|1||MRN-001\x00\r"
                b"OBR|1||ACC\x00|X|||20261130083000-0800\rOBX|1|ST|19554-5^M^LN||NEG||||||F\r"),
    "bad bytes": b"\xff\xfe\x00garbage",
}
HEADER = "record_number,accession,collected_at,loinc,result,status\n"
CSVS = {
    "nul csv": HEADER + "MRN-001,A\x00,2026-11-30,19554-5,negative,final\n",
    "long csv acc": HEADER + "MRN-001," + "A" * 300 + ",2026-11-30,19554-5,negative,final\n",
    "bad utf8": HEADER.encode() + b"\xff\xfe\n",
}
# A control character or lone surrogate in an identifier cannot be stored: the body is refused, naming where.
REFUSED = {"surrogate accession", "surrogate record", "nul accession", "deep nesting", "nul hl7"}

@pytest.fixture
def lab(app, personas) -> dict[str, str]:
    from cm_tracker.services.usecases import accounts
    with app.app_context():
        accounts.create_user(username="acme-lab", password=PASSWORD, role="lab", display_name="ACME")
    return api_token(app.test_client(), "acme-lab")

@pytest.mark.parametrize("name", sorted(CASES) + sorted(HL7) + sorted(CSVS))
def test_a_hostile_body_is_refused_or_held_never_a_500(client, lab, name: str) -> None:
    if name in CASES:
        body, ct = CASES[name], "application/fhir+json"
    elif name in HL7:
        body, ct = HL7[name], "application/hl7-v2"
    else:
        body, ct = CSVS[name], "text/csv"
    r = client.post("/api/v1/lab-results", data=body, headers={**lab, "Content-Type": ct})
    assert r.status_code < 500, r.get_data(as_text=True)
    if name in REFUSED:
        assert r.status_code == 400 and r.json["error"]["code"] == "malformed_lab_body"
    if r.status_code >= 400:
        assert r.json["error"]["message"]
    else:
        assert all(result["action"] == "held" for result in r.json["results"])
