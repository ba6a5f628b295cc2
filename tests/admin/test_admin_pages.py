"""Admin pages: users and programmes, creating, disabling and resetting accounts."""

from __future__ import annotations

import re

from sqlalchemy import select

from helpers import PASSWORD, sign_in


def audit_actions(app, action):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_admin_home_lists_every_user_with_role_and_status(admin):
    html = admin.get("/admin/").get_data(as_text=True)
    assert "<h1>Users and programmes</h1>" in html
    for username, name in (("ada", "Ada Admin"), ("max", "Max Manager"), ("cora", "Cora Counselor"), ("pat", "Pat")):
        assert f'<span class="mono">{username}</span>' in html
        assert name in html
    assert "Record MRN-001" in html
    assert "This is you" in html


def test_the_admin_home_summarises_each_programme(admin, history):
    html = admin.get("/admin/").get_data(as_text=True)
    assert "Stimulant vouchers" in html
    assert "10 points, +5 per success in a row, +40 bonus every 3 in a row" in html
    assert "$997.50" in html and "per enrolment" in html
    assert "Mon, Wed, Fri" in html
    assert re.search(r'data-label="Active enrolments">2</td>', html)


def test_a_new_counselor_account_is_created_and_listed(admin, app):
    response = admin.post("/admin/users/new", data={
        "username": "nina", "display_name": "Nina Nurse", "role": "counselor", "password": "a long pass phrase",
        "must_change_password": "y",
    })
    assert response.status_code == 302
    html = admin.get("/admin/").get_data(as_text=True)
    assert "The account nina is created." in html and "Nina Nurse" in html and "Must change password" in html
    assert audit_actions(app, "user.create")


def test_the_create_user_form_shows_each_error_beside_its_field_and_keeps_what_was_typed(admin):
    html = admin.post("/admin/users/new", data={
        "username": "Bad Name!", "display_name": "Nina Nurse", "role": "counselor", "password": "short",
    }).get_data(as_text=True)
    assert 'id="username-error"' in html and "Use 2 to 64 lower-case letters" in html
    assert 'id="password-error"' in html and "Use at least 8 characters." in html
    assert 'aria-describedby="username-hint username-error"' in html
    assert 'value="Bad Name!"' in html and 'value="Nina Nurse"' in html
    assert '<option selected value="counselor">' in html or 'value="counselor" selected' in html
    assert 'role="alert"' in html


def test_a_patient_account_without_a_record_is_refused_beside_the_record_field(admin):
    html = admin.post("/admin/users/new", data={
        "username": "olive", "display_name": "Olive", "role": "patient", "password": "a long pass phrase",
    }).get_data(as_text=True)
    assert 'id="patient_id-error"' in html and "A patient account must name its patient record." in html


def test_a_patient_account_belongs_to_the_record_chosen(admin, app, personas):
    response = admin.post("/admin/users/new", data={
        "username": "olive", "display_name": "Olive", "role": "patient", "password": "a long pass phrase",
        "patient_id": str(personas.other_patient),
    })
    assert response.status_code == 302
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    with app.app_context():
        assert db.session.scalar(select(User.patient_id).where(User.username == "olive")) == personas.other_patient


def test_only_records_without_an_account_are_offered(admin, personas):
    html = admin.get("/admin/users/new").get_data(as_text=True)
    assert "Olive Other (MRN-002)" in html
    assert "Pat Patient (MRN-001)" not in html


def test_disabling_an_account_signs_out_its_open_session_at_once(admin, app, personas):
    other = app.test_client()
    sign_in(other, "cora")
    assert other.get("/staff/").status_code == 200
    response = admin.post(f"/admin/users/{personas.counselor}/disable")
    assert response.status_code == 302
    follow = other.get("/staff/")
    assert follow.status_code == 302 and "/sign-in" in follow.headers["Location"]
    assert "Disabled" in admin.get("/admin/").get_data(as_text=True)


def test_a_disabled_account_cannot_sign_in_until_enabled_again(admin, app, personas):
    admin.post(f"/admin/users/{personas.counselor}/disable")
    other = app.test_client()
    assert other.post("/sign-in", data={"username": "cora", "password": PASSWORD}).status_code == 200
    admin.post(f"/admin/users/{personas.counselor}/enable")
    sign_in(other, "cora")


def test_an_admin_cannot_disable_their_own_account(admin, personas):
    response = admin.post(f"/admin/users/{personas.admin}/disable", follow_redirects=True)
    assert "You cannot disable your own account." in response.get_data(as_text=True)
    assert admin.get("/admin/").status_code == 200


def test_reset_asks_for_confirmation_first(admin, personas):
    html = admin.get(f"/admin/users/{personas.counselor}/reset-password").get_data(as_text=True)
    assert "Reset the password of Cora Counselor" in html and 'method="post"' in html


def test_a_reset_password_is_shown_once_works_and_forces_a_new_password(admin, app, personas):
    html = admin.post(f"/admin/users/{personas.counselor}/reset-password").get_data(as_text=True)
    temporary = re.search(r'class="temp-password mono"[^>]*>([^<]+)<', html).group(1)
    assert "shown only this once" in html
    cora = app.test_client()
    sign_in(cora, "cora", temporary)
    landing = cora.get("/staff/")
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/account/password")
    assert "temporary password" in cora.get("/account/password").get_data(as_text=True)
    changed = cora.post("/account/password", data={"current_password": temporary,
                                                   "new_password": "my own new phrase", "confirm": "my own new phrase"})
    assert changed.status_code == 302
    assert cora.get("/staff/").status_code == 200
    again = app.test_client().post("/sign-in", data={"username": "cora", "password": temporary})
    assert again.status_code == 200  # the temporary password no longer works


def test_a_manager_gets_403_on_the_admin_pages(client, personas):
    sign_in(client, "max")
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert client.post(f"/admin/users/{personas.counselor}/disable").status_code == 403


def test_a_counselor_gets_403_on_the_admin_pages(client, personas):
    sign_in(client, "cora")
    assert client.get("/admin/users/new").status_code == 403


def test_a_patient_gets_404_on_the_admin_pages(client, personas):
    sign_in(client, "pat")
    assert client.get("/admin/").status_code == 404
