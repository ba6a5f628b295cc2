"""Signing in with a second factor on the web: the password, then a code within five minutes; a code works once,
one step either side of now is accepted, and every refusal reads like a wrong password."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mfa.conftest import STEP, T0, code_at, code_step, enrol, password_step, recovery_codes_for

from helpers import PASSWORD, sign_in

WRONG = "The username or password is not right."


def _error_beside_the_password(html: str) -> str:
    match = re.search(r'<p class="field-error" id="password-error">(.*?)</p>', html, re.S)
    assert match, html[:2000]
    shown = re.sub(r'<span class="visually-hidden">.*?</span>', "", match.group(1))
    return re.sub(r"<[^>]+>", "", shown).strip()


def test_the_password_alone_does_not_sign_in_and_asks_for_the_code(app, client, personas, frozen):
    enrol(app, "ada")
    response = password_step(client, "ada")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in/code")
    assert client.get("/admin/").status_code == 302  # not signed in yet
    page = client.get("/sign-in/code").get_data(as_text=True)
    assert "Enter your code" in page and 'autocomplete="one-time-code"' in page


def test_the_right_code_signs_in(app, client, personas, frozen):
    secret = enrol(app, "ada")
    password_step(client, "ada")
    response = code_step(client, code_at(secret, T0))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/admin/").status_code == 200


def test_a_code_used_once_is_refused_the_second_time(app, client, personas, frozen):
    secret = enrol(app, "ada")
    code = code_at(secret, T0)
    password_step(client, "ada")
    assert code_step(client, code).headers["Location"] == "/"
    other = app.test_client()
    password_step(other, "ada")
    response = code_step(other, code)
    assert response.headers["Location"].startswith("/sign-in")
    assert other.get("/admin/").status_code == 302


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_a_code_of_one_step_either_side_is_accepted_and_two_steps_away_refused(app, client, personas, frozen, steps,
                                                                                accepted):
    secret = enrol(app, "cora")  # enrolment used the step before T0: move on two steps so that every case is unused
    frozen.move_to(T0 + 2 * STEP, tick=False)
    password_step(client, "cora")
    code_step(client, code_at(secret, T0 + (2 + steps) * STEP))
    assert (client.get("/staff/").status_code == 200) is accepted


def test_an_earlier_code_is_refused_once_a_later_one_was_used(app, client, personas, frozen):
    """Accepting step n closes every step up to n: the previous step's code, although in the window, is refused."""
    secret = enrol(app, "cora")
    frozen.move_to(T0 + 2 * STEP, tick=False)
    password_step(client, "cora")
    code_step(client, code_at(secret, T0 + 3 * STEP))
    other = app.test_client()
    password_step(other, "cora")
    code_step(other, code_at(secret, T0 + 1 * STEP))
    assert other.get("/staff/").status_code == 302


def test_a_recovery_code_signs_in_once_only(app, client, personas, frozen):
    enrol(app, "max")
    codes = recovery_codes_for(app, "max")
    password_step(client, "max")
    assert code_step(client, codes[3].upper().replace("-", " ")).headers["Location"] == "/"
    other = app.test_client()
    password_step(other, "max")
    assert code_step(other, codes[3]).headers["Location"].startswith("/sign-in")


def test_the_code_is_still_taken_just_before_five_minutes(app, client, personas, frozen):
    secret = enrol(app, "ada")
    password_step(client, "ada")
    later = T0 + timedelta(minutes=4, seconds=59)
    frozen.move_to(later, tick=False)
    assert code_step(client, code_at(secret, later)).headers["Location"] == "/"


def test_the_second_step_expires_after_five_minutes(app, client, personas, frozen):
    secret = enrol(app, "ada")
    password_step(client, "ada")
    later = T0 + timedelta(minutes=5, seconds=1)
    frozen.move_to(later, tick=False)
    response = code_step(client, code_at(secret, later))
    assert response.headers["Location"].startswith("/sign-in")
    assert client.get("/admin/").status_code == 302
    assert _error_beside_the_password(client.get("/sign-in").get_data(as_text=True)) == WRONG


def test_a_wrong_code_and_a_wrong_password_read_the_same(app, client, personas, frozen):
    enrol(app, "ada")
    wrong_password = password_step(app.test_client(), "ada", "not the password").get_data(as_text=True)
    password_step(client, "ada")
    code_step(client, "000000")
    after_code = client.get("/sign-in").get_data(as_text=True)
    assert _error_beside_the_password(after_code) == _error_beside_the_password(wrong_password) == WRONG
    assert 'value="ada"' in after_code  # the username is kept, as after a wrong password
    # Once shown, the message goes: a reload of the sign-in page is clean.
    assert 'id="password-error"' not in client.get("/sign-in").get_data(as_text=True)


def test_the_code_page_and_its_refusal_speak_spanish(app, client, personas, frozen):
    enrol(app, "ada")
    spanish = {"Accept-Language": "es"}
    password_step(client, "ada", headers=spanish)
    page = client.get("/sign-in/code", headers=spanish).get_data(as_text=True)
    assert "Escriba su código" in page and "códigos de recuperación" in page
    code_step(client, "000000", headers=spanish)
    refused = client.get("/sign-in", headers=spanish).get_data(as_text=True)
    english = password_step(app.test_client(), "ada", "not the password", headers=spanish).get_data(as_text=True)
    assert _error_beside_the_password(refused) == _error_beside_the_password(english) != WRONG


def test_the_code_page_without_a_password_first_sends_to_sign_in_quietly(client, personas, frozen):
    response = code_step(client, "123456")
    assert response.headers["Location"].startswith("/sign-in")
    assert 'id="password-error"' not in client.get("/sign-in").get_data(as_text=True)


def test_refused_codes_are_audited_as_refused_sign_ins(app, client, personas, frozen):
    from mfa.conftest import audit_actions

    enrol(app, "ada")
    password_step(client, "ada")
    code_step(client, "000000")
    assert ("auth.sign_in", "denied", "otp_invalid") in audit_actions(app, "auth.sign_in")


def test_a_patient_signs_in_with_the_password_alone(app, client, personas, frozen, required_roles):
    required_roles("admin", "manager", "counselor")
    sign_in(client, "pat")
    assert client.get("/portal/").status_code == 200


def test_the_next_page_survives_the_code_step(app, client, personas, frozen):
    secret = enrol(app, "ada")
    response = client.post("/sign-in?next=/admin/audit", data={"username": "ada", "password": PASSWORD})
    assert response.headers["Location"] == "/sign-in/code?next=/admin/audit"
    response = client.post(response.headers["Location"], data={"code": code_at(secret, T0)})
    assert response.headers["Location"] == "/admin/audit"
