"""The error format of docs/api.md for everything a client can get wrong, and never a 500."""

from __future__ import annotations

import io
import json

import pytest

from config import TestConfig

from api_support import PROGRAM, patient_body, program_body
from helpers import api_token


@pytest.mark.parametrize("raw", [b"{", b"", b"{'name': 1}", b"\xff\xfe{", b"[" * 100_000])
def test_a_body_that_is_not_json_answers_400_malformed_json(client, personas, raw):
    response = client.post("/api/v1/programs", data=raw, headers=api_token(client, "ada"),
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"3", b"null", b"true"])
def test_json_that_is_not_an_object_answers_400_malformed_json(client, personas, raw):
    response = client.post("/api/v1/patients", data=raw, headers=api_token(client, "ada"),
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": {"code": "malformed_json", "message": "The body must be a JSON object."}}


def test_a_body_of_two_megabytes_answers_413_json(client, personas):
    body = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = client.post("/api/v1/programs", data=body, headers=api_token(client, "ada"),
                           content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_a_token_request_of_two_megabytes_answers_413_json(client, personas):
    response = client.post("/api/v1/auth/tokens", data=b"x" * (2 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_a_method_the_path_does_not_take_answers_405_json(client, personas):
    response = client.put("/api/v1/programs", json={}, headers=api_token(client, "ada"))
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_an_unknown_path_answers_404_json(client, personas):
    response = client.get("/api/v1/nothing-here", headers=api_token(client, "ada"))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/patients/99999999999999999999999", "/api/v1/programs/2147483648",
                                  "/api/v1/patients/0", "/api/v1/programs/-1"])
def test_an_id_no_row_can_have_answers_404(client, personas, path):
    response = client.get(path, headers=api_token(client, "ada"))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


NOT_STRINGS = [12, True, [], {}, 1.5, "x" * 5000]
NOT_IDS = ["12", True, [], {}, 1.5, -1, 0, 2**40, "x" * 5000]
NOT_COUNTS = ["12", True, [], {}, 1.5, -1, 2**40, "x" * 5000]
PROGRAM_PROBES = [(f, v) for f in ("point_value_cents", "weeks", "cap_cents", "max_award_cents", "budget_cents")
                  for v in NOT_COUNTS]
PROGRAM_PROBES += [(f, v) for f in ("name", "description", "funding_source", "preset") for v in NOT_STRINGS]
PROGRAM_PROBES += [(f, v) for f in ("visit_days", "cap_window", "dilute_policy", "targets", "visit_plan",
                                    "effective_on", "requires_two_person_handover")
                   for v in ["12", 12, True, {}, 1.5, "x" * 5000]]


@pytest.mark.parametrize(("field", "value"), PROGRAM_PROBES)
def test_a_program_field_of_the_wrong_kind_answers_422_with_its_name(client, personas, field, value):
    if field == "requires_two_person_handover" and value is True:
        return
    response = client.post("/api/v1/programs", json=program_body(**{field: value}), headers=api_token(client, "ada"))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("field", ["point_value_cents", "weeks", "visit_days", "cap_cents", "cap_window", "targets",
                                   "name"])
def test_a_missing_program_field_answers_422_with_its_name(client, personas, field):
    body = program_body()
    del body[field]
    response = client.post("/api/v1/programs", json=body, headers=api_token(client, "ada"))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("field", ["key", "kind", "analytes", "schedule"])
@pytest.mark.parametrize("value", [12, True, None, [], {}, 1.5, "x" * 5000])
def test_a_target_field_of_the_wrong_kind_answers_422_with_its_dotted_name(client, personas, field, value):
    target = {**PROGRAM["targets"][0], field: value}
    response = client.post("/api/v1/programs", json=program_body(targets=[target]), headers=api_token(client, "ada"))
    assert response.status_code == 422, response.get_json()
    assert any(name.startswith(f"targets.0.{field}") for name in response.get_json()["error"]["fields"])


@pytest.mark.parametrize("value", [12, True, [], {}, "", "   ", "x" * 121])
def test_a_target_label_that_is_not_a_short_name_answers_422(client, personas, value):
    target = {**PROGRAM["targets"][0], "label": value}
    response = client.post("/api/v1/programs", json=program_body(targets=[target]), headers=api_token(client, "ada"))
    assert response.status_code == 422
    assert "targets.0.label" in response.get_json()["error"]["fields"]


PATIENT_PROBES = [(f, v) for f in ("display_name", "record_number") for v in [*NOT_STRINGS, None, "", "  "]]
PATIENT_PROBES += [(f, v) for f in ("program_id", "counselor_id") for v in NOT_IDS]
PATIENT_PROBES += [("program_id", None)]
PATIENT_PROBES += [("start_date", v) for v in [None, 20261102, "20261102", "2026-02-30", "2026-11-02T00:00:00",
                                               "1899-01-01", "9999-12-31", "next monday", ["2026-11-02"]]]


@pytest.mark.parametrize(("field", "value"), PATIENT_PROBES)
def test_a_patient_field_of_the_wrong_kind_answers_422_with_its_name(client, personas, field, value):
    body = patient_body(personas.program)
    body[field] = value
    response = client.post("/api/v1/patients", json=body, headers=api_token(client, "max"))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


USER_PROBES = [(f, v) for f in ("username", "password", "role", "display_name") for v in NOT_STRINGS]
USER_PROBES += [(f, None) for f in ("username", "password", "role")]
USER_PROBES += [("patient_id", v) for v in NOT_IDS]


@pytest.mark.parametrize(("field", "value"), USER_PROBES)
def test_a_user_field_of_the_wrong_kind_answers_422_with_its_name(client, personas, field, value):
    body = {"username": "nell", "password": "a long enough secret", "role": "counselor", field: value}
    response = client.post("/api/v1/users", json=body, headers=api_token(client, "ada"))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_an_unknown_field_is_refused_by_name(client, personas):
    body = patient_body(personas.program, date_of_birth="1990-01-01")
    response = client.post("/api/v1/patients", json=body, headers=api_token(client, "max"))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"date_of_birth": "Unknown field."}


def test_a_view_that_declares_no_audience_is_refused_to_every_role(database_url, personas):
    from cm_tracker import create_app

    class SameDatabase(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    probe_app = create_app(SameDatabase)
    probe_app.add_url_rule("/api/v1/undeclared", endpoint="api.undeclared", view_func=lambda: "open")
    client = probe_app.test_client()
    response = client.get("/api/v1/undeclared", headers=api_token(client, "ada"))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    from cm_tracker.extensions import db

    with probe_app.app_context():
        db.session.remove()
        db.engine.dispose()


NUL = "a\u0000b"


@pytest.mark.parametrize(("path", "field", "user"), [
    ("/api/v1/patients", "display_name", "max"), ("/api/v1/patients", "record_number", "max"),
    ("/api/v1/users", "display_name", "ada"), ("/api/v1/users", "username", "ada"),
    ("/api/v1/programs", "name", "ada"), ("/api/v1/programs", "description", "ada"),
    ("/api/v1/programs", "funding_source", "ada"),
])
def test_a_nul_character_in_a_text_field_answers_422_not_a_database_error(client, personas, path, field, user):
    bodies = {"/api/v1/patients": patient_body(personas.program), "/api/v1/programs": program_body(),
              "/api/v1/users": {"username": "nell", "password": "a long enough secret", "role": "counselor"}}
    response = client.post(path, json={**bodies[path], field: NUL}, headers=api_token(client, user))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_a_nul_character_in_a_token_request_answers_422(client, personas):
    response = client.post("/api/v1/auth/tokens", json={"username": NUL, "password": NUL})
    assert response.status_code == 422


def test_a_nul_character_in_a_bowl_tier_name_never_breaks_the_database(client, personas):
    schedule = {"kind": "prize_draws", "start_draws": 1, "bowl": [{"tier": NUL, "slips": 1, "value_cents": 0}]}
    target = {"key": "prizes", "kind": "abstinence", "analytes": ["cocaine"], "schedule": schedule}
    response = client.post("/api/v1/programs", json=program_body(targets=[target]), headers=api_token(client, "ada"))
    assert response.status_code in {201, 422}


def test_a_description_keeps_its_line_breaks(client, personas):
    body = program_body(description="Week 1-12: twice a week.\r\nWeek 13-24: once.")
    response = client.post("/api/v1/programs", json=body, headers=api_token(client, "ada"))
    assert response.get_json()["description"] == "Week 1-12: twice a week.\r\nWeek 13-24: once."


def test_a_program_with_too_many_targets_is_refused(client, personas):
    targets = [{"key": f"t{i}", "kind": "attendance", "schedule": {"kind": "fixed", "points": 1}} for i in range(21)]
    response = client.post("/api/v1/programs", json=program_body(targets=targets), headers=api_token(client, "ada"))
    assert response.status_code == 422
    assert "targets" in response.get_json()["error"]["fields"]


def test_a_405_names_the_methods_the_path_allows(client, personas):
    response = client.put("/api/v1/programs", json={}, headers=api_token(client, "ada"))
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST", "HEAD", "OPTIONS"}


def test_an_id_beyond_the_database_range_is_404_on_a_path_that_takes_two_methods(client, personas):
    """Werkzeug would answer 405 (naming POST) when the id of a GET fails its converter and a POST shares the path."""
    response = client.get("/api/v1/patients/99999999999/redemptions", headers=api_token(client, "ada"))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_chunked_body_over_the_limit_answers_413_not_400(client, personas):
    body = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = client.post("/api/v1/programs", input_stream=io.BytesIO(body), headers={
        **api_token(client, "ada"), "Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True})  # as gunicorn says of a chunked body it has de-chunked
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_a_chunked_body_within_the_limit_is_read_whole(client, personas):
    body = json.dumps(patient_body(personas.program)).encode()
    response = client.post("/api/v1/patients", input_stream=io.BytesIO(body), headers={
        **api_token(client, "ada"), "Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 201, response.get_json()


def test_a_whole_number_written_with_a_fraction_is_that_number(client, personas):
    """JSON Schema, and so the OpenAPI document, counts 1.0 as the integer 1."""
    body = patient_body(personas.program) | {"program_id": float(personas.program)}
    response = client.post("/api/v1/patients", json=body, headers=api_token(client, "ada"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["enrollment"]["program_id"] == personas.program


@pytest.mark.parametrize("value", [0, "", False, {}])
def test_analytes_that_are_no_list_are_refused_on_a_target_of_another_kind(client, personas, value):
    target = {"key": "groups", "kind": "attendance", "analytes": value, "schedule": {"kind": "fixed", "points": 1}}
    response = client.post("/api/v1/programs", json=program_body(targets=[target]), headers=api_token(client, "ada"))
    assert response.status_code == 422
    assert "targets.0.analytes" in response.get_json()["error"]["fields"]
