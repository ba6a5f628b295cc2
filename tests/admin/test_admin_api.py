"""Accounts through the API: admins only."""

from __future__ import annotations

import pytest

from api_support import audit_rows, fields_of
from helpers import PASSWORD, api_token

NEW_COUNSELOR = {"username": "nell", "password": "a long enough secret", "role": "counselor",
                 "display_name": "Nell Newhire"}


def test_an_admin_creates_an_account_that_can_get_a_token(client, personas):
    response = client.post("/api/v1/users", json=NEW_COUNSELOR, headers=api_token(client, "ada"))
    body = response.get_json()
    assert response.status_code == 201
    assert {k: body[k] for k in ("username", "role", "display_name", "patient_id", "is_disabled")} == {
        "username": "nell", "role": "counselor", "display_name": "Nell Newhire", "patient_id": None,
        "is_disabled": False}
    assert "password" not in body and "password_hash" not in body
    assert api_token(client, "nell", "a long enough secret")


def test_creating_an_account_leaves_one_audit_row_naming_the_admin(app, client, personas):
    client.post("/api/v1/users", json=NEW_COUNSELOR, headers=api_token(client, "ada"))
    rows = audit_rows(app, "user.create", username="ada")
    assert [(r.role, r.detail["username"], r.outcome.value) for r in rows] == [("admin", "nell", "success")]


def test_a_patient_account_names_its_patient_record(client, personas):
    body = {"username": "olive", "password": "a long enough secret", "role": "patient",
            "patient_id": personas.other_patient}
    response = client.post("/api/v1/users", json=body, headers=api_token(client, "ada"))
    assert response.status_code == 201
    assert response.get_json()["patient_id"] == personas.other_patient


@pytest.mark.parametrize(("change", "field", "why"), [
    ({"role": "boss"}, "role", "Choose admin, manager, counselor, patient or lab."),
    ({"password": "short"}, "password", "Use at least 8 characters."),
    ({"password": "x" * 129}, "password", "Must be at most 128 characters."),
    ({"username": "cora"}, "username", "This username is taken."),
    ({"username": "No Spaces!"}, "username", "Use 2 to 64 lower-case letters, digits, dots, dashes or underscores."),
    ({"role": "patient"}, "patient_id", "A patient account must name its patient record."),
    ({"patient_id": 1}, "patient_id", "Only a patient account belongs to a patient record."),
    ({"display_name": "x" * 121}, "display_name", "Must be at most 120 characters."),
])
def test_an_invalid_account_is_refused_with_the_field_and_why(client, personas, change, field, why):
    response = client.post("/api/v1/users", json={**NEW_COUNSELOR, **change}, headers=api_token(client, "ada"))
    assert response.status_code == 422
    assert fields_of(response)[field] == why


def test_a_patient_record_that_already_has_an_account_cannot_get_another(client, personas):
    body = {**NEW_COUNSELOR, "role": "patient", "patient_id": personas.patient}
    response = client.post("/api/v1/users", json=body, headers=api_token(client, "ada"))
    assert fields_of(response) == {"patient_id": "This patient record already has an account."}


@pytest.mark.parametrize(("username", "status"), [("max", 403), ("cora", 403), ("pat", 404)])
def test_only_admins_create_accounts(client, personas, username, status):
    response = client.post("/api/v1/users", json=NEW_COUNSELOR, headers=api_token(client, username))
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == ("forbidden" if status == 403 else "not_found")


def test_a_refused_account_creation_is_audited_as_denied(app, client, personas):
    client.post("/api/v1/users", json=NEW_COUNSELOR, headers=api_token(client, "max"))
    rows = audit_rows(app, "api.denied", username="max")
    assert [(r.outcome.value, r.object_id) for r in rows] == [("denied", "api.create_user")]
    assert audit_rows(app, "user.create", username="max") == []


def test_an_admin_lists_every_account(client, personas):
    response = client.get("/api/v1/users", headers=api_token(client, "ada"))
    assert sorted(u["username"] for u in response.get_json()["users"]) == ["ada", "cora", "max", "otto", "pat"]


def test_a_disabled_account_can_be_enabled_again(client, personas):
    admin = api_token(client, "ada")
    client.post(f"/api/v1/users/{personas.counselor}/disable", headers=admin)
    response = client.post(f"/api/v1/users/{personas.counselor}/enable", headers=admin)
    assert response.get_json()["is_disabled"] is False
    assert client.post("/api/v1/auth/tokens", json={"username": "cora", "password": PASSWORD}).status_code == 201


def test_an_admin_cannot_disable_their_own_account(client, personas):
    response = client.post(f"/api/v1/users/{personas.admin}/disable", headers=api_token(client, "ada"))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "own_account"


def test_disabling_an_absent_account_answers_404(client, personas):
    response = client.post("/api/v1/users/9999/disable", headers=api_token(client, "ada"))
    assert response.status_code == 404
