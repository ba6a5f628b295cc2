"""The second factor's tests: a clock frozen at T0 (codes are computed with pyotp at the frozen instant), staff with
a second factor set up through the use cases, and the required roles set per test (the suite's TestConfig requires
it of nobody)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpers import PASSWORD

# A Wednesday afternoon, 10 seconds into a 30-second step, so that a step either side is a clear step away.
T0 = datetime(2027, 3, 3, 17, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


def code_at(secret: str, instant: datetime) -> str:
    return pyotp.TOTP(secret).at(instant)


def enrol(app: Flask, username: str, now: datetime = T0) -> str:
    """Set up and confirm a second factor for `username` through the use cases, at the frozen clock (`now`); returns
    its secret. The confirming code is of the step before now, so that now's code is still unused."""
    from cm_tracker.services.usecases import second_factor

    with app.app_context():
        user = user_named(username)
        secret = second_factor.start_enrolment(user, fresh=True).secret
        second_factor.confirm_enrolment(user, code_at(secret, now - STEP), recovery_codes=False)
    return secret


def recovery_codes_for(app: Flask, username: str) -> list[str]:
    from cm_tracker.extensions import db
    from cm_tracker.services.core import second_factor as factor

    with app.app_context():
        user = user_named(username)
        codes = factor.replace_recovery_codes(user, T0)
        db.session.commit()
    return codes


def user_named(username: str):
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    return db.session.scalar(select(User).where(User.username == username))


def audit_actions(app: Flask, action_prefix: str = "") -> list[tuple[str, str, str | None]]:
    """(action, outcome, reason) of every audit row whose action starts with `action_prefix`, in order."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith(action_prefix))
                                  .order_by(AuditEvent.id))
        return [(r.action, r.outcome.value, (r.detail or {}).get("reason")) for r in rows]


def password_step(client: FlaskClient, username: str, password: str = PASSWORD, **kw: object):
    return client.post("/sign-in", data={"username": username, "password": password}, **kw)


def code_step(client: FlaskClient, code: str, **kw: object):
    return client.post("/sign-in/code", data={"code": code}, **kw)


@pytest.fixture
def frozen(time_machine) -> Iterator[object]:
    """The clock stopped at T0; `frozen.move_to(...)` moves it."""
    time_machine.move_to(T0, tick=False)
    yield time_machine


@pytest.fixture
def required_roles(app: Flask, monkeypatch: pytest.MonkeyPatch):
    """Set MFA_REQUIRED_ROLES on the shared app for one test: `required_roles("admin", "manager")`."""
    def set_roles(*roles: str) -> None:
        monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", frozenset(roles))

    return set_roles
