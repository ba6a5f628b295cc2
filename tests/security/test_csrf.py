"""With CSRF protection on, as in production, a state-changing POST without its token is refused."""

from __future__ import annotations

from helpers import PASSWORD, csrf_token_from


def signed_in(csrf_app, username):
    client = csrf_app.test_client()
    token = csrf_token_from(client, "/sign-in")
    response = client.post("/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


def test_sign_in_without_a_token_is_refused(csrf_app, personas):
    response = csrf_app.test_client().post("/sign-in", data={"username": "ada", "password": PASSWORD})
    assert response.status_code == 400


def test_sign_in_with_the_token_works(csrf_app, personas):
    signed_in(csrf_app, "ada")


def test_sign_out_without_a_token_is_refused(csrf_app, personas):
    client = signed_in(csrf_app, "ada")
    assert client.post("/sign-out").status_code == 400
    assert client.get("/admin/").status_code == 200  # still signed in


def test_creating_a_user_without_a_token_is_refused(csrf_app, personas):
    client = signed_in(csrf_app, "ada")
    response = client.post("/admin/users/new", data={"username": "nina", "display_name": "Nina",
                                                     "role": "counselor", "password": "a long pass phrase"})
    assert response.status_code == 400


def test_disabling_without_a_token_is_refused(csrf_app, personas):
    client = signed_in(csrf_app, "ada")
    assert client.post(f"/admin/users/{personas.counselor}/disable").status_code == 400


def test_creating_a_user_with_the_token_works(csrf_app, personas):
    client = signed_in(csrf_app, "ada")
    token = csrf_token_from(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={"username": "nina", "display_name": "Nina", "role": "counselor",
                                                     "password": "a long pass phrase", "csrf_token": token})
    assert response.status_code == 302
