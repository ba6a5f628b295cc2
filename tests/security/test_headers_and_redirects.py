"""Security headers on every response, `?next=` only to our own paths, and production refuses unsafe settings."""

from __future__ import annotations

import pytest

from config import DEV_SECRET_KEY, ConfigError, ProductionConfig, check_production_safety

from helpers import PASSWORD, api_token, sign_in


@pytest.mark.parametrize("path", ["/sign-in", "/staff/", "/no-such-page", "/api/v1/openapi.json"])
def test_every_response_carries_the_security_headers(client, personas, path):
    sign_in(client, "cora")
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


def test_the_session_cookie_is_http_only_and_same_site(client, personas):
    response = client.post("/sign-in", data={"username": "cora", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_api_answer_sets_no_cookie_and_varies_on_it(client, personas):
    answer = client.get("/api/v1/programs", headers=api_token(client, "cora"))
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    assert answer.headers["Vary"] == "Cookie"


def test_the_session_cookie_follows_a_change_of_key(app, client, personas):
    sign_in(client, "cora")
    cookie = client.get_cookie("cm_session").value
    old_key, fallbacks = app.secret_key, app.config["SECRET_KEY_FALLBACKS"]

    def opens(key: str, retired: list[str]) -> bool:
        app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = key, retired
        browser = app.test_client()
        browser.set_cookie("cm_session", cookie)
        return browser.get("/staff/").status_code == 200

    try:
        assert not opens("a-new-test-secret-key-not-for-production", [])
        assert opens("a-new-test-secret-key-not-for-production", [old_key])  # a rotation keeps it
        assert opens(old_key, [])
    finally:
        app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = old_key, fallbacks


def test_production_cookies_are_secure():
    assert ProductionConfig.SESSION_COOKIE_SECURE is True


@pytest.mark.parametrize("target", [
    "//evil.example", "/\\evil.example", "https:evil.example", "https://evil.example/x", "evil.example",
    "/%0d%0aLocation:evil", "\\\\evil.example", "javascript:alert(1)",
])
def test_next_never_leaves_the_site(client, personas, target):
    response = client.post(f"/sign-in?next={target}", data={"username": "cora", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_takes_a_local_path(client, personas):
    response = client.post("/sign-in?next=/staff/", data={"username": "cora", "password": PASSWORD})
    assert response.headers["Location"] == "/staff/"


@pytest.mark.parametrize("settings", [
    {"ENV_NAME": "production", "SECRET_KEY": DEV_SECRET_KEY},
    {"ENV_NAME": "production", "SECRET_KEY": "short"},
    {"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "DEBUG": True},
])
def test_production_refuses_unsafe_settings(settings):
    with pytest.raises(ConfigError):
        check_production_safety(settings)


def test_production_accepts_a_real_secret():
    check_production_safety({"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "AUDIT_CHAIN_KEY": "k" * 40,
                             "DEBUG": False})


def test_create_app_refuses_the_development_key_in_production():
    from cm_tracker import create_app

    class Unsafe(ProductionConfig):
        SECRET_KEY = DEV_SECRET_KEY

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(Unsafe)


@pytest.mark.parametrize(("hsts", "cookies_secure", "scheme", "sent"), [
    (True, False, "https", True),  # HSTS does not follow the cookies' setting...
    (True, True, "https", True),
    (False, True, "https", False),  # ...either way
    (True, True, "http", False),  # never over plain HTTP (RFC 6797 7.2)
])
def test_hsts_has_its_own_setting_and_rides_only_on_https(app, monkeypatch, hsts, cookies_secure, scheme, sent):
    monkeypatch.setitem(app.config, "HSTS_ENABLED", hsts)
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", cookies_secure)
    headers = app.test_client().get("/api/v1/openapi.json", base_url=f"{scheme}://localhost").headers
    assert headers.get("Strict-Transport-Security") == ("max-age=31536000; includeSubDomains" if sent else None)


def test_production_sends_hsts_even_with_cookies_that_are_not_secure():
    from cm_tracker import create_app

    class Production(ProductionConfig):
        SECRET_KEY = "x" * 40
        AUDIT_CHAIN_KEY = "k" * 40
        SQLALCHEMY_DATABASE_URI = "sqlite://"
        SESSION_COOKIE_SECURE = False
        REDIS_URL = None
        RATELIMIT_ENABLED = False  # the limiter is one object for every app: the suite's app must keep it off

    assert ProductionConfig.HSTS_ENABLED is True
    response = create_app(Production).test_client().get("/api/v1/openapi.json", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
