"""Rate limits on every door that checks a password (sign-in, token requests, a prize hand-over's confirmation):
per account name and per address (docs/security.md), shared through Redis when REDIS_URL is set.

The shared test app runs without limits, so these tests build a second app on the same database with limits on
and low numbers, and switch the shared limiter off again afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask

from config import Config, TestConfig

from helpers import PASSWORD, sign_in

TOKENS = "/api/v1/auth/tokens"
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def limited_app(app: Flask, database_url: str, personas, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app on the same database with limits on (3 per account, 5 per address a minute), in memory; a test may pass
    {"storage": a URI, "per_account": a limit}. The shared test app's settings (limits off) are restored after."""
    from cm_tracker import create_app
    from cm_tracker.extensions import db, limiter

    given = getattr(request, "param", {})

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = given.get("storage", "memory://")
        SIGN_IN_LIMIT_PER_ACCOUNT = given.get("per_account", "3 per minute")
        SIGN_IN_LIMIT_PER_ADDRESS = "5 per minute"

    limited = create_app(Limited)
    yield limited
    # The limiter is one object shared by every app: give it back the shared app's settings (limits off).
    limiter.init_app(app)
    assert not limiter.enabled
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


def _attempt(app: Flask, username: str, address: str) -> int:
    client = app.test_client()
    response = client.post("/sign-in", data={"username": username, "password": "wrong password!"},
                           environ_base={"REMOTE_ADDR": address})
    return response.status_code


def test_an_account_is_limited_whichever_address_tries_it(limited_app, personas):
    codes = [_attempt(limited_app, "cora", f"10.0.0.{i}") for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_an_address_is_limited_whichever_account_it_tries(limited_app, personas):
    codes = [_attempt(limited_app, f"user{i}", "10.9.9.9") for i in range(7)]
    assert codes == [200] * 5 + [429, 429]


def test_the_right_password_is_refused_too_once_the_limit_is_reached(limited_app, personas):
    for i in range(3):
        _attempt(limited_app, "cora", f"10.0.1.{i}")
    response = limited_app.test_client().post("/sign-in", data={"username": "cora", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_the_count_is_over_the_last_minute_so_the_turn_of_a_window_gives_no_extra_attempts(limited_app, personas,
                                                                                           monkeypatch):
    clock = _frozen_limit_clock(monkeypatch)
    assert _attempt(limited_app, "cora", "10.0.3.1") == 200
    clock[0] += 59
    assert [_attempt(limited_app, "cora", f"10.0.3.{i}") for i in (2, 3)] == [200, 200]
    clock[0] += 2  # a fixed window opened by the first attempt has just closed; two attempts are a minute old
    assert [_attempt(limited_app, "cora", f"10.0.3.{i}") for i in (4, 5)] == [200, 429]


def _frozen_limit_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The in-memory limit storage's clock, which the test moves by hand."""
    from types import SimpleNamespace

    import limits.storage.memory

    clock = [1_000_000.0]
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: clock[0]))
    return clock


def test_the_shipped_account_limit_pauses_for_at_most_15_minutes_and_allows_at_most_100_guesses_an_hour():
    from limits import parse_many

    windows = parse_many(Config.SIGN_IN_LIMIT_PER_ACCOUNT)
    assert max(item.get_expiry() for item in windows) == 15 * 60
    # Any hour holds at most `amount` per window of each limit, so the tightest limit bounds it (ASVS 2.2.1: 100).
    assert min(item.amount * -(-3600 // item.get_expiry()) for item in windows) == 80


@pytest.mark.parametrize("limited_app", [{"per_account": Config.SIGN_IN_LIMIT_PER_ACCOUNT}], indirect=True)
def test_a_stranger_who_spends_an_accounts_budget_gets_no_more_and_its_owner_is_back_after_15_minutes(
        limited_app, personas, monkeypatch):
    clock = _frozen_limit_clock(monkeypatch)
    start = clock[0]
    allowed = 0
    for minute in range(15):  # 8 tries a minute, each from a new address, so only the account's limit holds them
        clock[0] = start + minute * 60 + 1
        allowed += [_attempt(limited_app, "cora", f"10.7.{minute}.{i}") for i in range(8)].count(200)
    assert allowed == 20
    owner = {"username": "cora", "password": PASSWORD}
    clock[0] = start + 15 * 60 - 1
    assert limited_app.test_client().post("/sign-in", data=owner).status_code == 429
    clock[0] = start + 15 * 60 + 2  # the first minute's tries are more than 15 minutes old
    assert limited_app.test_client().post("/sign-in", data=owner).status_code == 302


def test_the_limit_is_kept_in_redis_when_redis_url_is_set(monkeypatch):
    from cm_tracker import create_app

    class WithRedis(TestConfig):
        REDIS_URL = "redis://127.0.0.1:6379/15"

    assert create_app(WithRedis).config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize("limited_app", [{"storage": REDIS}], indirect=True)
def test_redis_storage_holds_the_counts(limited_app, personas):
    from redis import Redis

    redis = Redis.from_url(limited_app.config["RATELIMIT_STORAGE_URI"])
    redis.flushdb()  # database 15 is the tests' own
    codes = [_attempt(limited_app, "cora", f"10.0.2.{i}") for i in range(4)]
    assert codes == [200, 200, 200, 429]
    assert redis.keys("*account:cora*"), "the counts live in Redis, where every worker sees them"


# The change-password form: a signed-in account's password checked again, on the same budget

NEW_PASSWORD = "a brand new phrase"


def _change(client, current: str, address: str = "10.5.0.1"):
    return client.post("/account/password", data={"current_password": current, "new_password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD}, environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("limited_app", [{}, {"storage": REDIS}], indirect=True, ids=["memory", "redis"])
def test_wrong_current_passwords_pause_the_password_change_with_a_clear_message(limited_app, personas):
    from redis import Redis

    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.core.passwords import verify_password

    from api_support import audit_rows

    if limited_app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        Redis.from_url(limited_app.config["RATELIMIT_STORAGE_URI"]).flushdb()  # the tests' own database
    client = limited_app.test_client()
    sign_in(client, "cora")  # the first of the account's 3 attempts a minute
    assert [_change(client, "wrong guess", f"10.5.0.{n}").status_code for n in range(2)] == [200, 200]
    refused = _change(client, PASSWORD, "10.5.0.9")
    assert refused.status_code == 429
    assert ("Too many password attempts on your account. Wait up to 1 minute, then try again."
            in refused.get_data(as_text=True))
    with limited_app.app_context():
        assert verify_password(db.session.get(User, personas.counselor).password_hash, PASSWORD)
    assert [row.detail for row in audit_rows(limited_app, "user.change_password")] == [
        None, None, {"reason": "rate_limited"}]


def test_a_password_change_within_the_limit_goes_through_and_reading_the_form_costs_nothing(limited_app, personas):
    client = limited_app.test_client()
    sign_in(client, "cora")
    assert [client.get("/account/password").status_code for _ in range(4)] == [200] * 4
    assert _change(client, PASSWORD).status_code == 302


def test_wrong_current_passwords_spend_the_accounts_sign_in_budget(limited_app, personas):
    client = limited_app.test_client()
    sign_in(client, "cora")
    assert [_change(client, "wrong guess", f"10.6.0.{n}").status_code for n in range(2)] == [200, 200]
    assert _attempt(limited_app, "cora", "10.6.1.1") == 429
    assert _attempt(limited_app, "max", "10.6.1.2") == 200


def test_every_door_that_checks_a_password_shares_the_accounts_budget(limited_app, personas):
    """Sign-in, token requests and a second person's confirmation at a prize hand-over count as one budget."""
    assert _attempt(limited_app, "cora", "10.1.0.1") == 200
    tokens = limited_app.test_client().post("/api/v1/auth/tokens", json={"username": "cora", "password": "guess"},
                                            environ_base={"REMOTE_ADDR": "10.1.0.2"})
    assert tokens.status_code == 401
    desk = limited_app.test_client()
    assert desk.post("/sign-in", data={"username": "ada", "password": PASSWORD}).status_code == 302
    confirm = {"reward_id": "1", "confirmer_username": "Cora", "confirmer_password": "guess"}
    first = desk.post("/staff/draws/999/handover", data=confirm, environ_base={"REMOTE_ADDR": "10.1.0.3"})
    second = desk.post("/staff/draws/999/handover", data=confirm, environ_base={"REMOTE_ADDR": "10.1.0.4"})
    assert first.status_code == 404 and second.status_code == 429


# Token requests (the API answers in JSON)

def _try(client, username: str, password: str = "wrong password", address: str = "10.0.0.1"):
    return client.post(TOKENS, json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_the_fourth_failure_for_one_account_answers_429_json(limited_app):
    client = limited_app.test_client()
    statuses = [_try(client, "ada", address=f"10.0.0.{n}").status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert _try(client, "ada", address="10.0.0.9").get_json()["error"]["code"] == "rate_limited"


def test_a_locked_account_is_refused_even_with_the_right_password(limited_app):
    client = limited_app.test_client()
    for n in range(3):
        _try(client, "ada", address=f"10.0.1.{n}")
    assert _try(client, "ada", PASSWORD, address="10.0.1.9").status_code == 429


def test_another_account_is_not_locked_by_failures_on_the_first(limited_app):
    client = limited_app.test_client()
    for n in range(3):
        _try(client, "ada", address=f"10.0.2.{n}")
    assert _try(client, "max", PASSWORD, address="10.0.2.9").status_code == 201


def test_one_address_is_limited_across_account_names(limited_app):
    client = limited_app.test_client()
    statuses = [_try(client, f"guess{n}", address="10.0.3.1").status_code for n in range(6)]
    assert statuses == [401] * 5 + [429]


def test_every_attempt_counts_even_with_the_right_password(limited_app):
    # Counting only failures (after the answer) would let a burst of parallel guesses pass before any is counted.
    client = limited_app.test_client()
    statuses = [_try(client, "max", PASSWORD, address=f"10.0.4.{n}").status_code for n in range(4)]
    assert statuses == [201, 201, 201, 429]


def test_a_token_request_over_the_size_limit_answers_413_json_with_limits_on(limited_app):
    response = limited_app.test_client().post(TOKENS, data=b"x" * (2 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_a_token_request_that_is_not_json_answers_400_with_limits_on(limited_app):
    response = limited_app.test_client().post(TOKENS, data=b"{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"
