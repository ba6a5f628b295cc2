"""Sign-in rate limits per address and per account, shared through Redis when REDIS_URL is set."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask

from config import TestConfig

from helpers import PASSWORD


@pytest.fixture
def limited_app(app: Flask, database_url: str, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app with limits on (3 per account, 5 per address a minute); the shared test app is restored after."""
    from cm_tracker import create_app
    from cm_tracker.extensions import limiter

    storage = getattr(request, "param", "memory://")

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = storage
        SIGN_IN_LIMIT_PER_ACCOUNT = "3 per minute"
        SIGN_IN_LIMIT_PER_ADDRESS = "5 per minute"

    limited = create_app(Limited)
    yield limited
    limiter.init_app(app)  # back to the shared app's settings (limits off)
    assert not limiter.enabled


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
