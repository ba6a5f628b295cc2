"""Fuzzing the API from its own OpenAPI document (schemathesis; docs/architecture.md, "Fuzzing the API"): requests
the document admits and requests it refuses, for every operation, sent with the bearer token of each role. No
answer may be a 5xx, and every answer must keep the document: a documented status with a body of its schema, a
refused request for data the document refuses, an accepted one for data it admits, 405 with an `Allow` header for
a method the path lacks.

Bounded and reproducible: a fixed number of examples per operation, derandomized, no example database, no
shrinking; the coverage phase adds the document's boundary values (lengths, ranges, formats, enums) and every
undeclared method. Each operation starts from the same world (tests/worlds/matrix.py), so ids 1 and up name real rows.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckContext
from schemathesis.specs.openapi.checks import positive_data_acceptance

from cm_tracker.api.openapi import DOCUMENT

from helpers import api_token
from worlds.matrix import matrix_world
from worlds.personas import Personas

ROLES = ("ada", "max", "cora", "pat")  # admin, manager, counselor, patient
EXAMPLES = 5  # generated requests per operation, besides the coverage phase: about a minute a pass on two cores
SEED = 20261102
# Disabling an account would end the run's own access (a persona's id is as likely as any): tests/security covers it.
SPARED = ("POST", "/users/{user_id}/disable")
REVOKE = "DELETE /auth/tokens/current"
# How the API's shape readers word a refusal (cm_tracker/api/schemas.py, event_schemas.py, the programme and
# schedule readers): a request the document admits must never get one of these. Any other 422 is a rule the
# document cannot state (a target the programme lacks, a date outside the enrolment, a stale version: 409).
SHAPE = re.compile(r"^(Unknown field|Required\.|Must be (a string|at most|from|a whole number|a date|a time|one of|"
                   r"true or false)|Must not contain control characters|Must fall between the years)")
ACCEPTED = {401, 403, 404, 409, 429}
# A lab body of a media type the document admits may still be unreadable: the document gives FHIR's outline, not the
# grammars of FHIR, HL7 v2 or CSV (cm_tracker/api/labs.py). Its refusal names where, and applies nothing.
UNREADABLE_LAB_BODY = ("POST /lab-results", 400, "malformed_lab_body")


@schemathesis.serializer("application/hl7-v2", "x-application/hl7-v2+er7")
def _er7(_ctx: schemathesis.SerializationContext, value: object) -> bytes:
    """HL7 v2 ER7 is text: the generated string as it is (anything else as its text, a request to refuse)."""
    return str(value).encode("utf-8", "surrogatepass")


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        # The roles' tokens are sent by the test itself, never generated.
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none", "no-shrink": True,
                       "with-security-parameters": False},
        "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}},
        # Replaced by `valid_data_is_accepted` below, which tells a shape refusal from a rule one.
        "checks": {"positive_data_acceptance": {"enabled": False}},
    })


@pytest.fixture
def role_headers(app: Flask, personas: Personas) -> dict[str, dict[str, str]]:
    """The matrix world, and a bearer token for each role."""
    matrix_world(app, personas)
    client = app.test_client()
    return {role: api_token(client, role) for role in ROLES}


def valid_data_is_accepted(ctx: CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """A request the document admits is answered 2xx, 401/403/404/409/429, or 422 for a rule beyond its shape."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code < 300:
        return
    if response.status_code in ACCEPTED or _unreadable_lab_body(case, response):
        return
    body = response.json() if response.status_code == 422 else {}
    shape = {name: why for name, why in body.get("error", {}).get("fields", {}).items() if SHAPE.match(why)}
    if response.status_code != 422 or shape:
        raise AssertionError(f"A request the document admits was refused ({response.status_code}): "
                             f"{shape or response.text[:300]}")


def _unreadable_lab_body(case: schemathesis.Case, response: schemathesis.Response) -> bool:
    label, status, code = UNREADABLE_LAB_BODY
    return (case.operation.label, response.status_code) == (label, status) and \
        response.json().get("error", {}).get("code") == code


def _headers(app: Flask, case: schemathesis.Case, role: str, headers: dict[str, dict[str, str]]) -> dict[str, str]:
    if case.operation.label == REVOKE:  # a token of its own, so that the run keeps the role's
        return api_token(app.test_client(), role)
    return headers[role]


# The document as the app serves it (every resource module adds its part when cm_tracker.api is imported).
schema = schemathesis.openapi.from_dict(DOCUMENT, config=_config()).exclude(method=SPARED[0], path=SPARED[1])


# One world per operation, shared by its examples, on purpose: each example builds on what the previous left.
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_role_gets_answers_that_keep_the_document(case: schemathesis.Case, app: Flask,
                                                        role_headers: dict[str, dict[str, str]]) -> None:
    case.operation.app = case.operation.schema.app = app  # where the calls go, the checks' own calls too
    for role in ROLES:
        case.call_and_validate(headers=_headers(app, case, role, role_headers),
                               additional_checks=[valid_data_is_accepted],
                               excluded_checks=[positive_data_acceptance])
