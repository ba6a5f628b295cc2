"""The OpenAPI 3.1 document: valid, served without a token, and complete (a new endpoint without docs fails)."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _documented_path(rule: str) -> str:
    """/api/v1/patients/<int(min=1):patient_id> -> /patients/{patient_id}"""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.removeprefix(PREFIX))


def test_the_document_is_served_without_a_token_as_openapi_3_1(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"] == "3.1.0"


def test_the_document_is_a_valid_openapi_document(client):
    validate(client.get(f"{PREFIX}/openapi.json").get_json())


def test_every_api_route_and_method_is_documented(app, client):
    paths = client.get(f"{PREFIX}/openapi.json").get_json()["paths"]
    missing = [
        f"{method} {_documented_path(rule.rule)}"
        for rule in app.url_map.iter_rules() if rule.rule.startswith(f"{PREFIX}/")
        for method in sorted((rule.methods or set()) - IGNORED_METHODS)
        if method.lower() not in paths.get(_documented_path(rule.rule), {})
    ]
    assert missing == []


def test_every_documented_operation_exists(app, client):
    paths = client.get(f"{PREFIX}/openapi.json").get_json()["paths"]
    served = {(_documented_path(rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith(f"{PREFIX}/")
              for method in (rule.methods or set()) - IGNORED_METHODS}
    documented = {(path, method) for path, item in paths.items() for method in item
                  if method in {"get", "post", "put", "patch", "delete"}}
    assert documented - served == set()


def test_the_document_names_bearer_authentication_and_the_error_body(client):
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A token from POST /auth/tokens."}
    assert document["security"] == [{"bearerAuth": []}]
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]


def test_token_issue_needs_no_token_in_the_document(client):
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    assert document["paths"]["/auth/tokens"]["post"]["security"] == []
