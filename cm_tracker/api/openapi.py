"""The OpenAPI 3.1 document of the API, served at /api/v1/openapi.json. A test fails when a route is missing here."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from cm_tracker.api.access import public
from cm_tracker.api.blueprint import bp
from cm_tracker.api.openapi_schemas import ID, SCHEMAS, ref

ERRORS = {
    "400": "Malformed JSON, a body that is not a JSON object, or a NUL character in the address.",
    "401": "No token, or an expired, revoked or unknown one.",
    "403": "Your role may not do this, or your temporary password must be changed (or your second factor set up) "
           "first.",
    "404": "Absent, or not yours to see (a patient outside your reach is always 404).",
    "405": "This method is not allowed on this path.",
    "409": "A conflict: a duplicate, a stale version or an insufficient balance.",
    "413": "The body is larger than the limit.",
    "415": "The body's Content-Type is not one this operation takes.",
    "422": "Invalid fields; `fields` says why, by dotted field name.",
    "429": "Too many attempts; wait and try again.",
}
# A patient's token is told 404 for every staff path (docs/api.md), so every secured operation may answer it.
COMMON = ("400", "401", "403", "404", "405")


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def operation(summary: str, ok: tuple[str, str | None, str], *, body: str | None = None,
               errors: tuple[str, ...] = (), params: tuple[str, ...] = (), secure: bool = True) -> dict[str, Any]:
    status, schema, description = ok
    responses: dict[str, Any] = {status: _json(ref(schema), description) if schema else {"description": description}}
    codes = (*COMMON, *errors) if secure else errors
    if body:
        codes = (*codes, "400", "413", "422")
    for code in sorted(set(codes)):
        responses[code] = {"$ref": f"#/components/responses/E{code}"}
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    if params:
        operation["parameters"] = [{"name": p, "in": "path", "required": True, "schema": ID} for p in params]
    if not secure:
        operation["security"] = []
    return operation


PATHS: dict[str, Any] = {
    "/auth/tokens": {"post": operation(
        "Issue a bearer token (rate limited per address and per account name).",
        ("201", "Token", "The token and when it expires."), body="TokenRequest", errors=("401", "429"),
        secure=False)},
    "/auth/tokens/current": {"delete": operation("Revoke the token of this request.", ("204", None, "Revoked."))},
    "/users": {
        "post": operation("Create an account (admin).", ("201", "User", "The new account."), body="UserCreate",
                           errors=("409",)),
        "get": operation("List the accounts (admin).", ("200", "UserList", "Every account.")),
    },
    "/users/{user_id}/disable": {"post": operation(
        "Disable an account and end its sessions and tokens at once (admin).", ("200", "User", "The account."),
        errors=("404", "409"), params=("user_id",))},
    "/users/{user_id}/enable": {"post": operation(
        "Enable an account again (admin).", ("200", "User", "The account."), errors=("404", "409"),
        params=("user_id",))},
    "/programs": {
        "post": operation("Create a programme (admin, manager).", ("201", "Program", "The new programme."),
                           body="ProgramCreate", errors=("409",)),
        "get": operation("List the programmes (staff).", ("200", "ProgramList", "Every programme.")),
    },
    "/programs/{program_id}": {"get": operation(
        "Read a programme (staff).", ("200", "Program", "The programme."), errors=("404",), params=("program_id",))},
    "/patients": {"post": operation(
        "Admit a patient into a programme; a counselor's patient joins their own caseload (staff).",
        ("201", "Patient", "The patient with its enrollment."), body="PatientCreate", errors=("409",))},
    "/patients/{patient_id}": {"get": operation(
        "Read a patient record within your reach (staff; audited).", ("200", "Patient", "The patient."),
        errors=("404",), params=("patient_id",))},
    "/openapi.json": {"get": {
        "summary": "This document.", "security": [],
        "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                      "400": {"$ref": "#/components/responses/E400"}}}},
}



def document(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Add a resource module's paths and schemas to the document; each module documents its own endpoints."""
    for path, methods in paths.items():
        taken = set(PATHS.get(path, {})) & set(methods)
        if taken:
            raise RuntimeError(f"{path} {sorted(taken)} is documented twice")
        for op in methods.values():
            if any(p["in"] == "query" for p in op.get("parameters", [])):
                # The API reads every query parameter it declares and refuses a malformed one with 422.
                op["responses"].setdefault("422", {"$ref": "#/components/responses/E422"})
        PATHS.setdefault(path, {}).update(methods)
    for name, schema in (schemas or {}).items():
        if name in SCHEMAS:
            raise RuntimeError(f"schema {name} is defined twice")
        SCHEMAS[name] = schema


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "cm-tracker API", "version": "1",
        "description": "Contingency-management rewards tracker. JSON in, JSON out; times are ISO 8601 with an "
                       "offset, dates YYYY-MM-DD, money integer cents. Every error is "
                       '{"error": {"code", "message", "fields"?}}.',
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                           "description": "A token from POST /auth/tokens."}},
        "schemas": SCHEMAS,
        "responses": {f"E{code}": _json(ref("Error"), text) for code, text in ERRORS.items()},
    },
}


@bp.get("/openapi.json")
@public
def openapi_document() -> Response:
    return jsonify(DOCUMENT)
