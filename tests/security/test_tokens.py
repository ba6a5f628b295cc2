"""Bearer tokens: issue, use, revoke, expiry, disabled accounts, and the session cookie the API never reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from api_support import audit_rows
from helpers import PASSWORD, api_token, sign_in

TOKENS = "/api/v1/auth/tokens"


@pytest.mark.time_machine(datetime(2026, 11, 20, 20, 0, tzinfo=UTC), tick=False)
def test_a_token_is_issued_for_the_right_password_with_an_expiry_carrying_an_offset(client, personas):
    response = client.post(TOKENS, json={"username": "ada", "password": PASSWORD})
    body = response.get_json()
    assert response.status_code == 201
    assert len(body["token"]) >= 40
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert expires_at.utcoffset() is not None
    assert expires_at == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # API_TOKEN_HOURS (12) after the frozen instant
    assert body["user"] == {"id": personas.admin, "username": "ada", "role": "admin"}


def test_the_token_opens_the_api(client, personas):
    response = client.get("/api/v1/programs", headers=api_token(client, "max"))
    assert response.status_code == 200
    assert [p["name"] for p in response.get_json()["programs"]] == ["Stimulant vouchers"]


def test_a_revoked_token_gets_401_afterwards(client, personas):
    headers = api_token(client, "max")
    revoked = client.delete(f"{TOKENS}/current", headers=headers)
    assert revoked.status_code == 204
    assert revoked.get_data() == b""
    after = client.get("/api/v1/programs", headers=headers)
    assert after.status_code == 401
    assert after.get_json()["error"]["code"] == "unauthorized"


def test_an_unknown_user_and_a_wrong_password_get_the_same_401_body(client, personas):
    unknown = client.post(TOKENS, json={"username": "nobody", "password": PASSWORD})
    wrong = client.post(TOKENS, json={"username": "ada", "password": "not the password"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json() == {
        "error": {"code": "invalid_credentials", "message": "The username or password is not right."}}


def test_a_disabled_account_gets_the_same_401_as_a_wrong_password(app, client, personas):
    _set_user(app, personas.counselor, is_disabled=True)
    response = client.post(TOKENS, json={"username": "cora", "password": PASSWORD})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_a_token_request_without_a_password_names_the_missing_field(client, personas):
    response = client.post(TOKENS, json={"username": "ada"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"password": "Required."}


def test_disabling_an_account_stops_its_token_at_once(client, personas):
    counselor = api_token(client, "cora")
    disabled = client.post(f"/api/v1/users/{personas.counselor}/disable", headers=api_token(client, "ada"))
    assert disabled.status_code == 200
    assert disabled.get_json()["is_disabled"] is True
    assert client.get("/api/v1/programs", headers=counselor).status_code == 401


def test_a_token_of_an_account_disabled_directly_in_the_database_stops_working(app, client, personas):
    counselor = api_token(client, "cora")
    _set_user(app, personas.counselor, is_disabled=True)
    assert client.get("/api/v1/programs", headers=counselor).status_code == 401


def test_an_expired_token_gets_401(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import ApiToken
    from cm_tracker.timeutil import utcnow

    headers = api_token(client, "max")
    with app.app_context():
        db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = client.get("/api/v1/programs", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_call_without_a_token_gets_401_json(client, personas):
    response = client.get("/api/v1/programs")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_made_up_token_gets_401(client, personas):
    response = client.get("/api/v1/programs", headers={"Authorization": "Bearer made-up"})
    assert response.status_code == 401


def test_a_basic_authorization_header_is_not_a_token(client, personas):
    response = client.get("/api/v1/programs", headers={"Authorization": "Basic YWRhOnB3"})
    assert response.status_code == 401


def test_the_api_never_accepts_the_session_cookie(client, personas):
    sign_in(client, "ada")
    assert client.get("/api/v1/programs").status_code == 401


def test_the_token_user_is_the_one_audited_even_with_another_users_session_cookie(app, client, personas):
    sign_in(client, "max")
    client.get(f"/api/v1/patients/{personas.patient}", headers=api_token(client, "cora"))
    views = audit_rows(app, "patient.view", patient_id=personas.patient)
    assert [(row.username, row.outcome.value) for row in views] == [("cora", "success")]


def test_a_call_without_a_token_is_audited_as_denied(app, client, personas):
    client.get("/api/v1/programs")
    rows = audit_rows(app, "api.denied")
    assert [(r.outcome.value, r.object_id, r.detail["reason"]) for r in rows] == [
        ("denied", "api.list_programs", "no_token")]


def test_a_temporary_password_allows_only_token_issue_and_revocation(app, client, personas):
    _set_user(app, personas.manager, must_change_password=True)
    headers = api_token(client, "max")
    refused = client.get("/api/v1/programs", headers=headers)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "password_change_required"
    assert client.delete(f"{TOKENS}/current", headers=headers).status_code == 204


NEW_PASSWORD = "a brand new phrase"


def test_a_token_made_before_a_password_change_gets_401_after(app, client, personas):
    before = api_token(client, "cora")
    browser = app.test_client()
    sign_in(browser, "cora")
    changed = browser.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert changed.status_code == 302
    after = client.get("/api/v1/programs", headers=before)
    assert after.status_code == 401
    assert after.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/programs", headers=api_token(client, "cora", NEW_PASSWORD)).status_code == 200


def test_an_admins_password_reset_revokes_every_token_of_the_user(app, client, personas):
    tokens = [api_token(client, "cora"), api_token(client, "cora")]
    admin = app.test_client()
    sign_in(admin, "ada")
    assert admin.post(f"/admin/users/{personas.counselor}/reset-password").status_code == 200
    assert [client.get("/api/v1/programs", headers=token).status_code for token in tokens] == [401, 401]
    [row] = audit_rows(app, "user.reset_password")
    assert row.detail == {"sessions_ended": 0, "tokens_revoked": 2}


def test_another_users_tokens_outlive_a_password_change(app, client, personas):
    others = api_token(client, "max")
    browser = app.test_client()
    sign_in(browser, "cora")
    browser.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                            "confirm": NEW_PASSWORD})
    assert client.get("/api/v1/programs", headers=others).status_code == 200


def _set_user(app, user_id: int, **values: object) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(**values))
        db.session.commit()
