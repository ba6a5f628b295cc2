"""MFA_REQUIRED_ROLES and an admin's requirement: those accounts set up a second factor at their next sign-in
before any other page (and before any other API call); counselors may, patients never need to."""

from __future__ import annotations

import pytest

from mfa.conftest import T0, code_at, user_named

from helpers import PASSWORD, api_token, sign_in

SET_UP = "/account/security/set-up"
ELSEWHERE = ("/", "/admin/", "/admin/audit", "/staff/", "/account/password", "/account/security/", "/reports/",
             "/programmes/", "/catalog/")


def test_a_required_role_sees_only_the_set_up_until_it_is_done(app, client, personas, frozen, required_roles):
    required_roles("admin", "manager")
    sign_in(client, "ada")
    for path in ELSEWHERE:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == SET_UP, path
    page = client.get(SET_UP).get_data(as_text=True)
    assert "must have a second factor" in page
    secret = page.split('id="mfa-secret"')[1].split(">")[1].split("<")[0].replace(" ", "")
    assert client.post(SET_UP, data={"otp": code_at(secret, T0)}).status_code == 200
    assert client.get("/admin/").status_code == 200


def test_signing_out_stays_open_during_a_required_set_up(client, personas, frozen, required_roles):
    required_roles("manager")
    sign_in(client, "max")
    assert client.post("/sign-out").headers["Location"].endswith("/sign-in")


def test_a_counselor_is_not_required_by_default_but_may_set_one_up(client, personas, frozen, required_roles):
    required_roles("admin", "manager")
    sign_in(client, "cora")
    assert client.get("/staff/").status_code == 200
    assert client.get(SET_UP).status_code == 200


def test_a_temporary_password_is_changed_first_then_the_set_up(app, client, personas, frozen, required_roles):
    from cm_tracker.services.usecases import accounts

    required_roles("admin")
    with app.app_context():
        temporary = accounts.reset_password(user_named("ada"), actor=user_named("max"))
    sign_in(client, "ada", temporary)
    assert client.get("/admin/").headers["Location"] == "/account/password"
    client.post("/account/password", data={"current_password": temporary, "new_password": "a brand new phrase",
                                           "confirm": "a brand new phrase"})
    assert client.get("/admin/").headers["Location"] == SET_UP


def test_the_admin_requires_it_of_every_staff_account_and_of_new_ones(app, client, personas, frozen):
    from cm_tracker.services.usecases import accounts

    sign_in(client, "ada")
    assert client.post("/admin/users/require-mfa").status_code == 302
    with app.app_context():
        assert [user_named(n).mfa_required for n in ("ada", "max", "cora", "otto", "pat")] == [
            True, True, True, True, False]
        nell = accounts.create_user(username="nell", password=PASSWORD, role="counselor", display_name="Nell")
        paul = accounts.create_user(username="paul-lab", password=PASSWORD, role="lab", display_name="Lab")
        assert nell.mfa_required and not paul.mfa_required
    assert client.get("/admin/").headers["Location"] == SET_UP  # the admin too, from the next page on
    other = app.test_client()
    sign_in(other, "cora")
    assert other.get("/staff/").headers["Location"] == SET_UP


def test_new_staff_accounts_are_not_required_while_some_staff_account_is_not(app, personas, frozen):
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        nell = accounts.create_user(username="nell", password=PASSWORD, role="counselor", display_name="Nell")
        assert not nell.mfa_required


def test_the_api_answers_only_the_set_up_until_it_is_done(app, client, personas, frozen, required_roles):
    required_roles("admin", "manager")
    headers = api_token(client, "max")  # no second factor yet: the password alone gives the token
    refused = client.get("/api/v1/programs", headers=headers)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "mfa_enrolment_required"
    secret = client.post("/api/v1/me/mfa", headers=headers).get_json()["secret"]
    confirmed = client.post("/api/v1/me/mfa/confirmation", headers=headers, json={"otp": code_at(secret, T0)})
    assert confirmed.status_code == 204
    assert client.get("/api/v1/programs", headers=headers).status_code == 200


@pytest.mark.parametrize("roles", [(), ("admin", "manager", "counselor")])
def test_a_patient_never_has_to_set_one_up(client, personas, frozen, required_roles, roles):
    required_roles(*roles)
    sign_in(client, "pat")
    assert client.get("/portal/").status_code == 200
