"""The second factor in a real browser: an admin who must have one signs in, is taken to the set-up, reads the key
off the page, confirms it with a code, keeps the recovery codes, signs out and signs in again with a code; at a desk
(1280 px) and on a phone (375 px), axe-core checking every page, screenshots to look at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
import time_machine

from config import TestConfig
from e2e.conftest import SCREENSHOTS

from helpers import A_MONDAY, PASSWORD
from worlds.personas import personas_world

WIDTHS = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


@pytest.fixture(scope="module")
def mfa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own where admins and managers must have a second factor (the suite's default requires none)."""
    from werkzeug.serving import make_server

    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class MfaConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('mfa') / 'mfa.db'}"
        MFA_REQUIRED_ROLES = frozenset({"admin", "manager"})

    app = create_app(MfaConfig)
    with app.app_context():
        db.create_all()
    personas_world(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


def _code(secret: str) -> str:
    """The code at the app's clock (the server runs in this process, so it reads the same travelled clock)."""
    from cm_tracker.timeutil import utcnow

    return pyotp.TOTP(secret).at(utcnow())


def _password(page, username: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _shot(page, name: str, size: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"mfa-{name}-{size}.png"), full_page=True)
    # The page's own content; the admin's menu is the header's business (it scrolls sideways when it has to).
    assert page.evaluate("document.querySelector('main').scrollWidth <= window.innerWidth"), name


# The manager at the desk width: the admin's longer menu is wider than 1280 px (its own concern, not this page's).
@pytest.mark.parametrize(("size", "username"), [("desk", "max"), ("phone", "ada")])
def test_a_required_account_sets_up_a_second_factor_then_signs_in_with_a_code(browser, mfa_server, size, username):
    # A clock decades ahead, ticking: the browser keeps the server's cookies, and a step can be skipped at will.
    with time_machine.travel(A_MONDAY, tick=True) as clock:
        context = browser.new_context(viewport=WIDTHS[size], base_url=mfa_server)
        try:
            page = context.new_page()
            _password(page, username)
            assert page.url.endswith("/account/security/set-up")
            assert page.locator("svg.qr-code").is_visible()
            _shot(page, "set-up", size)
            secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
            page.get_by_label("Code from your app").fill("000000")
            with page.expect_navigation():
                page.get_by_role("button", name="Turn on the second factor").click()
            assert "not the code your app shows now" in page.locator("#otp-error").inner_text()
            page.get_by_label("Code from your app").fill(_code(secret))
            with page.expect_navigation():
                page.get_by_role("button", name="Turn on the second factor").click()
            assert page.locator(".recovery-codes li").count() == 10
            _shot(page, "recovery-codes", size)
            with page.expect_navigation():
                page.get_by_role("button", name="Sign out").click()
            clock.shift(timedelta(seconds=30))  # the confirming code is spent: sign in with the next one
            _password(page, username)
            assert page.url.endswith("/sign-in/code")
            _shot(page, "code", size)
            page.get_by_role("textbox", name="Code").fill(_code(secret))
            with page.expect_navigation():
                page.get_by_role("button", name="Sign in").click()
            page.goto("/account/security/")
            assert "On" in page.locator(".facts").inner_text()
            _shot(page, "account", size)
        finally:
            context.close()
