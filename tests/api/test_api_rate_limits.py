"""Token requests are rate limited per account name and per address (docs/security.md); only failures count.

The shared test app runs without limits, so these tests build a second app on the same database with limits on
and low numbers, and switch the shared limiter off again afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from config import TestConfig

from helpers import PASSWORD

TOKENS = "/api/v1/auth/tokens"


@pytest.fixture
def limited_app(app: Flask, database_url: str, personas) -> Iterator[Flask]:
    from cm_tracker import create_app
    from cm_tracker.extensions import db, limiter

    class LimitedConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        SIGN_IN_LIMIT_PER_ACCOUNT = "3 per minute"
        SIGN_IN_LIMIT_PER_ADDRESS = "5 per minute"

    limited = create_app(LimitedConfig)
    yield limited
    # The limiter is one object shared by every app: give it back the shared app's settings (limits off).
    limiter.init_app(app)
    assert not limiter.enabled
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


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
