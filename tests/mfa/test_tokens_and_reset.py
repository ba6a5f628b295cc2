"""The second factor on POST /api/v1/auth/tokens (otp_required, otp_invalid), and an admin's reset of a user's
second factor (page and API, audited), after which the user sets one up again."""

from __future__ import annotations

from mfa.conftest import (
    STEP,
    T0,
    audit_actions,
    code_at,
    code_step,
    enrol,
    password_step,
    recovery_codes_for,
    user_named,
)

from helpers import PASSWORD, api_token, sign_in

TOKENS = "/api/v1/auth/tokens"


def _token(client, username: str, **extra: str):
    return client.post(TOKENS, json={"username": username, "password": PASSWORD, **extra})


def test_a_token_needs_the_code_once_a_second_factor_is_on(app, client, personas, frozen):
    enrol(app, "max")
    response = _token(client, "max")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "otp_required"
    assert ("auth.sign_in", "denied", "otp_required") in audit_actions(app, "auth.sign_in")


def test_a_wrong_code_is_otp_invalid_and_a_right_one_gives_the_token(app, client, personas, frozen):
    secret = enrol(app, "max")
    wrong = _token(client, "max", otp="000000")
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "otp_invalid"
    right = _token(client, "max", otp=code_at(secret, T0))
    assert right.status_code == 201 and right.get_json()["user"]["username"] == "max"


def test_a_code_already_used_is_otp_invalid(app, client, personas, frozen):
    secret = enrol(app, "max")
    assert _token(client, "max", otp=code_at(secret, T0)).status_code == 201
    replay = _token(client, "max", otp=code_at(secret, T0))
    assert replay.status_code == 401 and replay.get_json()["error"]["code"] == "otp_invalid"


def test_a_wrong_password_with_a_right_code_is_still_invalid_credentials(app, client, personas, frozen):
    secret = enrol(app, "max")
    response = client.post(TOKENS, json={"username": "max", "password": "not it", "otp": code_at(secret, T0)})
    assert response.get_json()["error"]["code"] == "invalid_credentials"
    assert _token(client, "max", otp=code_at(secret, T0)).status_code == 201  # the code was not spent


def test_a_recovery_code_stands_in_for_the_app_on_the_api_too(app, client, personas, frozen):
    enrol(app, "max")
    code = recovery_codes_for(app, "max")[0]
    assert _token(client, "max", otp=code).status_code == 201
    assert _token(client, "max", otp=code).get_json()["error"]["code"] == "otp_invalid"
    assert audit_actions(app, "user.mfa_recovery_code_used") == [("user.mfa_recovery_code_used", "success", None)]


def test_accounts_without_a_second_factor_keep_the_password_alone(client, personas, frozen, required_roles):
    required_roles("admin", "manager")
    assert _token(client, "pat").status_code == 201
    assert _token(client, "cora").status_code == 201


def test_the_admin_resets_a_second_factor_on_the_page_audited_and_the_user_signs_out(app, client, personas,
                                                                                     frozen, required_roles):
    secret = enrol(app, "cora")
    cora = app.test_client()
    password_step(cora, "cora")
    code_step(cora, code_at(secret, T0))
    assert cora.get("/staff/").status_code == 200
    sign_in(client, "ada")
    admin_list = client.get("/admin/").get_data(as_text=True)
    assert "Reset second factor" in admin_list and 'class="badge badge-on">On<' in admin_list
    assert "Reset the second factor of Cora Counselor" in client.get(
        f"/admin/users/{personas.counselor}/reset-mfa").get_data(as_text=True)
    assert client.post(f"/admin/users/{personas.counselor}/reset-mfa").status_code == 302
    assert cora.get("/staff/").status_code == 302  # signed out everywhere
    with app.app_context():
        assert user_named("cora").mfa_secret is None and user_named("cora").mfa_confirmed_at is None
    assert audit_actions(app, "user.mfa_reset") == [("user.mfa_reset", "success", None)]
    required_roles("counselor")
    sign_in(cora, "cora")  # the password alone now, and the set-up comes first
    assert cora.get("/staff/").headers["Location"] == "/account/security/set-up"


def test_the_api_resets_a_second_factor_and_the_user_enrols_again(app, client, personas, frozen):
    enrol(app, "cora")
    headers = api_token(client, "ada")
    assert client.delete(f"/api/v1/users/{personas.counselor}/mfa", headers=headers).status_code == 204
    assert _token(client, "cora").status_code == 201
    cora = api_token(client, "cora")
    assert client.post("/api/v1/me/mfa", headers=cora).status_code == 201
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=headers).get_json()["users"]}
    assert listed["cora"]["mfa"] == "pending" and listed["ada"]["mfa"] == "off"


def test_nobody_resets_their_own_second_factor(app, client, personas, frozen):
    headers = api_token(client, "ada")
    response = client.delete(f"/api/v1/users/{personas.admin}/mfa", headers=headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "own_account"


def test_a_later_step_is_needed_after_a_reset_and_new_set_up(app, client, personas, frozen):
    """The last accepted step goes with the reset: a new secret starts afresh."""
    enrol(app, "cora")
    headers = api_token(client, "ada")
    client.delete(f"/api/v1/users/{personas.counselor}/mfa", headers=headers)
    frozen.move_to(T0 + STEP, tick=False)
    secret = enrol(app, "cora", T0 + STEP)  # confirmed with T0's code, which the first secret had taken too
    assert _token(client, "cora", otp=code_at(secret, T0 + STEP)).status_code == 201
