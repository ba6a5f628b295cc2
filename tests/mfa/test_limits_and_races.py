"""Codes count toward the sign-in limits exactly as passwords do (the pattern of tests/security/test_rate_limits.py:
a second app on the same database with limits on), and one code is accepted once even when two requests race."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from config import TestConfig
from mfa.conftest import T0, code_at, code_step, enrol, password_step, recovery_codes_for, user_named

from helpers import PASSWORD, in_threads


@pytest.fixture
def limited_app(app: Flask, database_url: str, personas) -> Iterator[Flask]:
    """Limits on (3 per account, 5 per address a minute, in memory); the shared limiter is given back after."""
    from cm_tracker import create_app
    from cm_tracker.extensions import db, limiter

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        SIGN_IN_LIMIT_PER_ACCOUNT = "3 per minute"
        SIGN_IN_LIMIT_PER_ADDRESS = "5 per minute"

    limited = create_app(Limited)
    yield limited
    limiter.init_app(app)
    assert not limiter.enabled
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


def test_wrong_codes_count_toward_the_accounts_limit(limited_app, personas, frozen):
    enrol(limited_app, "ada")
    statuses = []
    for i in range(2):
        client = limited_app.test_client()
        address = {"REMOTE_ADDR": f"10.1.0.{i}"}
        statuses.append(password_step(client, "ada", environ_base=address).status_code)
        statuses.append(code_step(client, "000000", environ_base=address).status_code)
    assert statuses == [302, 302, 302, 429]
    # Even the right password is refused now, from a fresh address, until the window moves on.
    client = limited_app.test_client()
    assert password_step(client, "ada", environ_base={"REMOTE_ADDR": "10.1.0.9"}).status_code == 429


def test_wrong_codes_count_toward_the_addresses_limit(limited_app, personas, frozen):
    for username in ("ada", "max"):
        enrol(limited_app, username)
    address = {"REMOTE_ADDR": "10.2.0.1"}
    statuses = []
    for username in ("ada", "max", "cora"):
        client = limited_app.test_client()
        statuses.append(password_step(client, username, environ_base=address).status_code)
        if username != "cora":
            statuses.append(code_step(client, "000000", environ_base=address).status_code)
    statuses.append(password_step(limited_app.test_client(), "otto", environ_base=address).status_code)
    assert statuses == [302, 302, 302, 302, 302, 429]


def test_wrong_codes_on_the_token_endpoint_count_toward_the_same_limit(limited_app, personas, frozen):
    secret = enrol(limited_app, "max")
    client = limited_app.test_client()
    codes = [client.post("/api/v1/auth/tokens", json={"username": "max", "password": PASSWORD, "otp": "000000"},
                         environ_base={"REMOTE_ADDR": f"10.3.0.{i}"}).status_code for i in range(3)]
    right = client.post("/api/v1/auth/tokens", json={"username": "max", "password": PASSWORD,
                                                     "otp": code_at(secret, T0)})
    assert codes == [401, 401, 401] and right.status_code == 429


def test_one_code_sent_twice_at_once_is_accepted_once(app, personas, frozen):
    from cm_tracker.services.usecases import second_factor

    secret = enrol(app, "ada")
    code = code_at(secret, T0)
    outcomes = in_threads(app, 2, lambda _i: second_factor.check_code(user_named("ada"), code))
    assert sorted(outcomes) == [False, True]


def test_one_recovery_code_sent_twice_at_once_is_accepted_once(app, personas, frozen):
    from cm_tracker.services.usecases import second_factor

    enrol(app, "ada")
    code = recovery_codes_for(app, "ada")[0]
    outcomes = in_threads(app, 2, lambda _i: second_factor.check_code(user_named("ada"), code))
    assert sorted(outcomes) == [False, True]


def test_the_step_is_claimed_by_one_conditional_update(app, personas, frozen):
    """The compare-and-set itself, on whichever database runs the suite: a second claim of the same step, or of an
    earlier one, changes nothing."""
    from cm_tracker.extensions import db
    from cm_tracker.services.core import second_factor as factor

    with app.app_context():
        user = user_named("ada")
        assert factor.claim_step(user, 1000) is True
        assert factor.claim_step(user, 1000) is False
        assert factor.claim_step(user, 999) is False
        assert factor.claim_step(user, 1001) is True
        db.session.commit()
        db.session.expire_all()
        assert user_named("ada").mfa_last_step == 1001
