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

from config import TestConfig

from helpers import PASSWORD

TOKENS = "/api/v1/auth/tokens"


@pytest.fixture
def limited_app(app: Flask, database_url: str, personas, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app on the same database with limits on (3 per account, 5 per address a minute), in memory unless the test
    passes a storage URI; the shared test app's settings (limits off) are restored after."""
    from cm_tracker import create_app
    from cm_tracker.extensions import db, limiter

    storage = getattr(request, "param", "memory://")

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = storage
        SIGN_IN_LIMIT_PER_ACCOUNT = "3 per minute"
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
    from types import SimpleNamespace

    import limits.storage.memory

    clock = [1_000_000.0]
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: clock[0]))
    assert _attempt(limited_app, "cora", "10.0.3.1") == 200
    clock[0] += 59
    assert [_attempt(limited_app, "cora", f"10.0.3.{i}") for i in (2, 3)] == [200, 200]
    clock[0] += 2  # a fixed window opened by the first attempt has just closed; two attempts are a minute old
    assert [_attempt(limited_app, "cora", f"10.0.3.{i}") for i in (4, 5)] == [200, 429]


def test_the_limit_is_kept_in_redis_when_redis_url_is_set(monkeypatch):
    from cm_tracker import create_app

    class WithRedis(TestConfig):
        REDIS_URL = "redis://127.0.0.1:6379/15"

    assert create_app(WithRedis).config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize("limited_app", [os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")],
                         indirect=True)
def test_redis_storage_holds_the_counts(limited_app, personas):
    from redis import Redis

    redis = Redis.from_url(limited_app.config["RATELIMIT_STORAGE_URI"])
    redis.flushdb()  # database 15 is the tests' own
    codes = [_attempt(limited_app, "cora", f"10.0.2.{i}") for i in range(4)]
    assert codes == [200, 200, 200, 429]
    assert redis.keys("*account:cora*"), "the counts live in Redis, where every worker sees them"


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
