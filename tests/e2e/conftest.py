"""A live server on its own SQLite file and Debian's Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import TestConfig
from e2e import axe

from helpers import PASSWORD
from worlds.history import history_world
from worlds.personas import Personas, personas_world

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Personas]]:
    from werkzeug.serving import make_server

    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class E2EConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}"

    app = create_app(E2EConfig)
    with app.app_context():
        db.create_all()
    people = personas_world(app)
    history_world(app, people)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", people
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests"
        if os.environ.get("CM_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    if not axe.AXE_JS.exists():
        pytest.fail(f"{axe.AXE_JS} is missing: {axe.INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    AXE.load()
    undo = axe.install(AXE)
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            new_context = chromium.new_context

            def watched_context(**options):
                # Every context any test makes, so that no page escapes the accessibility check.
                context = new_context(**options)
                AXE.watch(context, javascript=options.get("java_script_enabled", True))
                return context

            chromium.new_context = watched_context
            yield chromium
            chromium.close()
    finally:
        undo()


AXE = axe.AxeChecker()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Fail a browser test that opened a page with a critical or serious axe-core violation (tests/e2e/axe.py)."""
    AXE.failures.clear()
    result = yield  # a test that failed on its own says so first
    if AXE.main is not None:
        AXE.flush()  # the page still open at the end
    if AXE.failures:
        pytest.fail(AXE.report(), pytrace=False)
    return result


def pytest_terminal_summary(terminalreporter) -> None:
    if AXE.checks:
        terminalreporter.write_line(f"axe-core: {AXE.checks} distinct pages checked in {AXE.seconds:.1f}s")


def wait_for_focus(page, attribute: str, value: str) -> None:
    """Wait until the focused element's `attribute` is `value`. Chromium applies `autofocus` in a rendering step that
    may come after the load event on a busy machine, so keys typed straight after `goto` can land nowhere."""
    page.wait_for_function("([a, v]) => document.activeElement && document.activeElement[a] === v",
                           arg=[attribute, value], timeout=10_000)


PHONE = {"width": 375, "height": 812}
DESK = {"width": 1440, "height": 900}


@pytest.fixture
def page_at(browser, live_server) -> Iterator[object]:
    """Open pages on the live server at a viewport; every context is closed after the test."""
    contexts = []

    def open_page(viewport=DESK):
        context = browser.new_context(viewport=viewport, base_url=live_server[0])
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, username: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
