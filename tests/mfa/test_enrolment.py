"""Setting up a second factor: on the account page (a QR code drawn as SVG, the key in groups of four, a code to
confirm, ten recovery codes shown once and stored as digests) and through the API."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from mfa.conftest import STEP, T0, audit_actions, code_at, code_step, enrol, password_step, user_named

from helpers import PASSWORD, api_token, sign_in

SET_UP = "/account/security/set-up"


def _secret_on(html: str) -> str:
    match = re.search(r'<p class="mfa-secret mono" id="mfa-secret"[^>]*>([A-Z2-7 ]+)</p>', html)
    assert match, html[:3000]
    return match.group(1).replace(" ", "")


def test_the_set_up_page_shows_a_qr_code_and_the_key_in_groups_of_four(app, client, personas, frozen):
    sign_in(client, "ada")
    html = client.get(SET_UP).get_data(as_text=True)
    secret = _secret_on(html)
    assert len(secret) == 32 and re.search(r"(?:[A-Z2-7]{4} ){7}[A-Z2-7]{4}", html)
    assert '<svg role="img" aria-label="QR code to scan with your authenticator app"' in html
    with app.app_context():
        assert user_named("ada").mfa_secret == secret and user_named("ada").mfa_confirmed_at is None


def test_a_reload_or_a_second_tab_shows_the_same_key(client, personas, frozen):
    sign_in(client, "ada")
    first, second = (_secret_on(client.get(SET_UP).get_data(as_text=True)) for _ in range(2))
    assert first == second


def test_a_wrong_code_keeps_the_set_up_pending_and_says_so_beside_the_field(app, client, personas, frozen):
    sign_in(client, "ada")
    client.get(SET_UP)
    html = client.post(SET_UP, data={"otp": "000000"}).get_data(as_text=True)
    assert 'id="otp-error"' in html and "not the code your app shows now" in html and 'value="000000"' in html
    with app.app_context():
        assert user_named("ada").mfa_confirmed_at is None
    assert ("user.mfa_confirm", "denied", None) in audit_actions(app, "user.mfa")


def test_the_right_code_turns_it_on_and_shows_ten_recovery_codes_once_stored_as_digests(app, client, personas,
                                                                                         frozen):
    from cm_tracker.extensions import db
    from cm_tracker.models import MfaRecoveryCode

    sign_in(client, "ada")
    secret = _secret_on(client.get(SET_UP).get_data(as_text=True))
    html = client.post(SET_UP, data={"otp": code_at(secret, T0)}).get_data(as_text=True)
    codes = re.findall(r"<li>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</li>", html)
    assert len(codes) == 10 and len(set(codes)) == 10
    with app.app_context():
        user = user_named("ada")
        assert user.mfa_confirmed_at == T0
        stored = db.session.scalars(select(MfaRecoveryCode.code_hash).where(MfaRecoveryCode.user_id == user.id))
        stored = set(stored)
    assert len(stored) == 10 and not stored & set(codes) and all(len(h) == 64 for h in stored)
    assert [a for a, _, _ in audit_actions(app, "user.mfa")] == ["user.mfa_enrol", "user.mfa_confirm"]
    # Shown once: the set-up page now sends to the account page, which shows no code.
    assert client.get(SET_UP).headers["Location"].endswith("/account/security/")
    assert not any(code in client.get("/account/security/").get_data(as_text=True) for code in codes)


def test_sending_the_confirmation_again_after_it_worked_is_no_error(app, client, personas, frozen):
    """A double click or the Back button resubmits the form: the page says it is on already, never a 500."""
    sign_in(client, "ada")
    secret = _secret_on(client.get(SET_UP).get_data(as_text=True))
    client.post(SET_UP, data={"otp": code_at(secret, T0)})
    again = client.post(SET_UP, data={"otp": code_at(secret, T0)}, follow_redirects=True)
    assert again.status_code == 200 and "already on" in again.get_data(as_text=True)


def test_recovery_codes_are_regenerated_for_a_current_code_only(app, client, personas, frozen):
    secret = enrol(app, "cora")
    password_step(client, "cora")
    code_step(client, code_at(secret, T0))
    page = client.get("/account/security/").get_data(as_text=True)
    assert "On" in page and "0 of 10" in page
    wrong = client.post("/account/security/recovery-codes", data={"new-otp": "111111"}).get_data(as_text=True)
    assert 'id="new-otp-error"' in wrong
    frozen.move_to(T0 + STEP, tick=False)
    fresh = client.post("/account/security/recovery-codes", data={"new-otp": code_at(secret, T0 + STEP)})
    assert len(re.findall(r"<li>[a-z2-9-]{19}</li>", fresh.get_data(as_text=True))) == 10
    assert "10 of 10" in client.get("/account/security/").get_data(as_text=True)


def test_turning_it_off_needs_a_code_and_is_refused_while_required(app, client, personas, frozen, required_roles):
    secret = enrol(app, "cora")
    password_step(client, "cora")
    code_step(client, code_at(secret, T0))
    frozen.move_to(T0 + STEP, tick=False)
    required_roles("counselor")
    refused = client.post("/account/security/off", data={"off-otp": code_at(secret, T0 + STEP)})
    assert "cannot be turned off" in refused.get_data(as_text=True)
    required_roles()
    assert client.post("/account/security/off", data={"off-otp": code_at(secret, T0 + STEP)}).status_code == 302
    with app.app_context():
        assert user_named("cora").mfa_secret is None
    assert audit_actions(app, "user.mfa_off")[-1] == ("user.mfa_off", "success", None)


def test_the_api_sets_up_and_confirms_a_second_factor(app, client, personas, frozen):
    headers = api_token(client, "max")
    started = client.post("/api/v1/me/mfa", headers=headers)
    assert started.status_code == 201
    body = started.get_json()
    uri = urlsplit(body["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp" and parse_qs(uri.query)["secret"] == [body["secret"]]
    wrong = client.post("/api/v1/me/mfa/confirmation", headers=headers, json={"otp": "000000"})
    assert wrong.status_code == 422 and "otp" in wrong.get_json()["error"]["fields"]
    right = client.post("/api/v1/me/mfa/confirmation", headers=headers, json={"otp": code_at(body["secret"], T0)})
    assert right.status_code == 204
    again = client.post("/api/v1/me/mfa/confirmation", headers=headers, json={"otp": code_at(body["secret"], T0)})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "mfa_not_pending"
    assert client.post("/api/v1/me/mfa", headers=headers).get_json()["error"]["code"] == "mfa_active"


def test_a_new_api_set_up_replaces_a_pending_secret(app, client, personas, frozen):
    headers = api_token(client, "max")
    first = client.post("/api/v1/me/mfa", headers=headers).get_json()["secret"]
    second = client.post("/api/v1/me/mfa", headers=headers).get_json()["secret"]
    assert first != second
    stale = client.post("/api/v1/me/mfa/confirmation", headers=headers, json={"otp": code_at(first, T0)})
    assert stale.status_code == 422


def test_patients_and_lab_accounts_have_no_second_factor(app, client, personas, frozen):
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        accounts.create_user(username="lina-lab", password=PASSWORD, role="lab", display_name="Lina's lab")
    for username in ("pat", "lina-lab"):
        response = client.post("/api/v1/me/mfa", headers=api_token(client, username))
        assert response.status_code == 403, username
    sign_in(client, "pat")
    assert client.get("/account/security/").status_code == 404
