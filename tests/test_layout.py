"""The base layout, sign-in, navigation by role and the error pages."""

from __future__ import annotations

import pytest

from helpers import sign_in


def test_the_sign_in_page_has_a_skip_link_labelled_fields_and_a_main_landmark(client):
    html = client.get("/sign-in").get_data(as_text=True)
    assert html.index('class="skip-link" href="#main"') < html.index("<header")
    assert '<main id="main"' in html
    assert '<label for="username">' in html and '<label for="password">' in html


def test_pages_carry_no_inline_script_or_style(client, personas):
    sign_in(client, "ada")
    for path in ("/admin/", "/admin/users/new", "/admin/audit", "/staff/", "/reports/"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "style=" not in html and "<style" not in html, path
        assert '="None"' not in html, path


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_a_wrong_password_keeps_the_username_and_shows_the_error_beside_the_field(client, personas):
    html = client.post("/sign-in", data={"username": "cora", "password": "nope nope"}).get_data(as_text=True)
    assert 'value="cora"' in html
    assert 'aria-invalid="true"' in html
    assert 'id="password-error"' in html and "The username or password is not right." in html


def test_the_admin_sees_every_page_of_the_admin_in_the_navigation(client, personas):
    sign_in(client, "ada")
    html = client.get("/admin/").get_data(as_text=True)
    for label in ("Users", "Programmes", "Caseload", "Roll call", "Clinic closures", "Catalog", "Adjustments",
                  "Reports", "Audit trail", "Change password"):
        assert f">{label}</a>" in html
    assert "Ada Admin" in html
    assert 'action="/sign-out"' in html


def test_a_counselor_sees_only_the_desk_pages_in_the_navigation(client, personas):
    sign_in(client, "cora")
    html = client.get("/staff/").get_data(as_text=True)
    for label in ("Caseload", "Roll call", "Catalog"):
        assert f">{label}</a>" in html
    for label in ("Audit trail", "Reports", "Programmes", "Adjustments", "Clinic closures", "Users"):
        assert f">{label}</a>" not in html
    assert ">My rewards</a>" not in html


def test_a_patient_sees_only_the_portal_in_the_navigation(client, personas):
    sign_in(client, "pat")
    html = client.get("/portal/").get_data(as_text=True)
    assert ">My rewards</a>" in html
    assert ">Caseload</a>" not in html and ">Users</a>" not in html


def test_the_current_page_is_marked_in_the_navigation(client, personas):
    sign_in(client, "max")
    assert 'aria-current="page">Reports</a>' in client.get("/reports/").get_data(as_text=True)


def test_signing_out_ends_the_session(client, personas):
    sign_in(client, "cora")
    response = client.post("/sign-out")
    assert response.headers["Location"].endswith("/sign-in")
    assert client.get("/staff/").status_code == 302
    assert "You are signed out." in client.get("/sign-in").get_data(as_text=True)


def test_an_unknown_address_gets_a_helpful_404_page(client, personas):
    sign_in(client, "cora")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and "Go to your home page" in html


def test_a_get_of_sign_out_is_refused_with_405(client):
    response = client.get("/sign-out")
    assert response.status_code == 405
    assert "Not allowed this way" in response.get_data(as_text=True)


def test_a_body_over_the_size_limit_is_refused_with_413(client, app):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post("/sign-in", data={"username": "ada", "password": big})
    assert response.status_code == 413
    assert "Too large to accept" in response.get_data(as_text=True)


def test_the_error_page_offers_sign_in_to_a_visitor(client):
    html = client.get("/nowhere").get_data(as_text=True)
    assert "Go to sign in" in html


@pytest.mark.parametrize(("status", "title"), [
    (400, "This request could not be handled"), (403, "Not allowed for your role"), (404, "Page not found"),
    (405, "Not allowed this way"), (413, "Too large to accept"), (429, "Too many attempts"),
    (500, "Something went wrong"),
])
def test_every_error_page_names_the_problem_and_a_way_on(app, status, title):
    from flask import render_template

    from cm_tracker.errors import MESSAGES

    with app.test_request_context("/"):
        html = render_template("errors/error.html", status=status, message=MESSAGES[status])
    assert f"<title>{title} · cm-tracker</title>" in html and f"Error {status}" in html and MESSAGES[status] in html
    assert "Go to sign in" in html


def test_a_manager_on_an_admin_page_gets_a_403_page_that_says_why(client, personas):
    sign_in(client, "max")
    html = client.get("/admin/").get_data(as_text=True)
    assert "Not allowed for your role" in html and "Go to your home page" in html
