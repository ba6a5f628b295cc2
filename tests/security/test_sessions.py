"""Sessions end when they should (docs/security.md): sign-out, disabling, idle and absolute timeouts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpers import PASSWORD, api_token, sign_in


def _session_row(app, username):
    from cm_tracker.extensions import db
    from cm_tracker.models import User, UserSession

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()


def test_a_cookie_copied_before_sign_out_stops_working(app, client, personas):
    sign_in(client, "cora")
    stolen = client.get_cookie("cm_session").value
    client.post("/sign-out")
    thief = app.test_client()
    thief.set_cookie("cm_session", stolen)
    response = thief.get("/staff/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_sign_in_issues_a_fresh_session_cookie(app, client, personas):
    client.get("/sign-in")
    client.set_cookie("cm_session", "planted-by-attacker")
    sign_in(client, "cora")
    assert client.get_cookie("cm_session").value != "planted-by-attacker"
    sign_in(app.test_client(), "cora")
    rows = _session_row(app, "cora")
    assert len({row.token_hash for row in rows}) == 2


def test_disabling_an_account_signs_it_out_at_once(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.usecases import accounts

    sign_in(client, "cora")
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        accounts.set_disabled(db.session.get(User, personas.counselor), True,
                              actor=db.session.get(User, personas.admin))
    assert client.get("/staff/").status_code == 302
    assert [row.end_reason for row in _session_row(app, "cora")] == ["disabled"]


def test_a_disabled_account_cannot_sign_in(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    with app.app_context():
        db.session.get(User, personas.counselor).is_disabled = True
        db.session.commit()
    response = client.post("/sign-in", data={"username": "cora", "password": PASSWORD})
    assert response.status_code == 200
    assert "The username or password is not right." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("age_field", "age", "reason"),
    [("last_seen_at", timedelta(minutes=16), "idle_timeout"), ("created_at", timedelta(hours=12, minutes=1),
                                                              "absolute_timeout")],
)
def test_sessions_time_out(app, client, personas, age_field, age, reason):
    from cm_tracker.extensions import db
    from cm_tracker.models import UserSession
    from cm_tracker.timeutil import utcnow

    sign_in(client, "cora")
    with app.app_context():
        row = db.session.scalars(select(UserSession)).one()
        setattr(row, age_field, utcnow() - age)
        if age_field == "created_at":
            row.last_seen_at = utcnow()
        db.session.commit()
    response = client.get("/staff/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert [r.end_reason for r in _session_row(app, "cora")] == [reason]


def test_activity_within_the_idle_limit_keeps_the_session(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import UserSession
    from cm_tracker.timeutil import utcnow

    sign_in(client, "cora")
    with app.app_context():
        row = db.session.scalars(select(UserSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=14)
        db.session.commit()
    assert client.get("/staff/").status_code == 200
    assert _session_row(app, "cora")[0].last_seen_at > utcnow() - timedelta(minutes=1)


def test_unknown_user_and_wrong_password_get_the_same_answer(client, personas):
    unknown = client.post("/sign-in", data={"username": "nobody", "password": PASSWORD})
    wrong = client.post("/sign-in", data={"username": "cora", "password": "not the password"})
    assert unknown.status_code == wrong.status_code == 200
    strip = lambda r: r.get_data(as_text=True).replace("nobody", "").replace("cora", "")  # noqa: E731
    assert strip(unknown) == strip(wrong)


def test_passwords_are_stored_as_argon2id(app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    with app.app_context():
        assert db.session.get(User, personas.admin).password_hash.startswith("$argon2id$")


def test_a_temporary_password_opens_only_the_change_password_page(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        temporary = accounts.reset_password(db.session.get(User, personas.counselor),
                                            actor=db.session.get(User, personas.admin))
    sign_in(client, "cora", temporary)
    assert client.get("/staff/").headers["Location"].endswith("/account/password")
    response = client.post("/account/password", data={"current_password": temporary,
                                                      "new_password": "a brand new phrase", "confirm":
                                                      "a brand new phrase"})
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200


@pytest.mark.parametrize(("password", "message"), [
    ("short", "Use at least 8 characters."),
    ("x" * 129, "Use at most 128 characters."),
    ("password123", "This password is too common"),
    ("Sunflower", "This password is too common"),
    ("michelle1", "This password is too common"),
])
def test_the_password_policy_explains_refusals(client, personas, password, message):
    sign_in(client, "cora")
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": password,
                                                      "confirm": password})
    assert message in response.get_data(as_text=True)


# A password change ends the other sessions (ASVS 3.3.3); an admin's reset ends them all

NEW_PASSWORD = "a brand new phrase"


def _change_password(client, current: str = PASSWORD):
    return client.post("/account/password", data={"current_password": current, "new_password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD})


def _signed_out(client) -> bool:
    response = client.get("/staff/")
    return response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_password_change_signs_out_the_users_other_browsers(app, personas):
    changing, other = app.test_client(), app.test_client()
    sign_in(changing, "cora")
    sign_in(other, "cora")
    assert other.get("/staff/").status_code == 200
    assert _change_password(changing).status_code == 302
    assert _signed_out(other)
    assert changing.get("/staff/").status_code == 200


def test_a_copy_of_the_changing_browsers_own_cookie_stops_working(app, client, personas):
    sign_in(client, "cora")
    copied = client.get_cookie("cm_session").value
    _change_password(client)
    thief = app.test_client()
    thief.set_cookie("cm_session", copied)
    assert _signed_out(thief)
    assert client.get("/staff/").status_code == 200


def test_the_renewed_session_keeps_the_absolute_limit_counted_from_sign_in(app, client, personas):
    sign_in(client, "cora")
    [before] = _session_row(app, "cora")
    _change_password(client)
    rows = sorted(_session_row(app, "cora"), key=lambda row: row.id)
    assert [(row.end_reason, row.created_at) for row in rows] == [
        ("password_change", before.created_at), (None, before.created_at)]


def test_a_refused_password_change_ends_no_session(app, personas):
    changing, other = app.test_client(), app.test_client()
    sign_in(changing, "cora")
    sign_in(other, "cora")
    assert _change_password(changing, current="not my password").status_code == 200
    assert other.get("/staff/").status_code == 200
    assert changing.get("/staff/").status_code == 200


def test_a_password_change_is_audited_with_the_sessions_and_tokens_it_ended(app, personas):
    from api_support import audit_rows

    changing, other = app.test_client(), app.test_client()
    sign_in(changing, "cora")
    sign_in(other, "cora")
    api_token(other, "cora")
    _change_password(changing)
    rows = audit_rows(app, "user.change_password")
    assert [(row.username, row.outcome.value, row.object_id, row.detail) for row in rows] == [
        ("cora", "success", str(personas.counselor), {"sessions_ended": 1, "tokens_revoked": 1})]


def test_the_new_password_signs_in_and_the_old_one_does_not(app, client, personas):
    sign_in(client, "cora")
    _change_password(client)
    assert app.test_client().post("/sign-in", data={"username": "cora", "password": PASSWORD}).status_code == 200
    sign_in(app.test_client(), "cora", NEW_PASSWORD)


def test_an_admins_password_reset_signs_out_every_session_of_the_user(app, personas):
    from api_support import audit_rows

    first, second, admin = app.test_client(), app.test_client(), app.test_client()
    sign_in(first, "cora")
    sign_in(second, "cora")
    sign_in(admin, "ada")
    assert admin.post(f"/admin/users/{personas.counselor}/reset-password").status_code == 200
    assert _signed_out(first) and _signed_out(second)
    assert [row.end_reason for row in _session_row(app, "cora")] == ["password_reset", "password_reset"]
    [row] = audit_rows(app, "user.reset_password")
    assert (row.username, row.object_id, row.detail) == (
        "ada", str(personas.counselor), {"sessions_ended": 2, "tokens_revoked": 0})
    assert admin.get("/admin/").status_code == 200
