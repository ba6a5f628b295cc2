"""A portal request reaches staff, in a real browser on a phone (390 px) and a desk (1280 px): Pat asks for two bus
passes in the portal, Cora sees the request on her caseload and on Pat's record, follows the link to the rewards
desk, where "up to N" and the quantity's limit leave out the points the request holds, and fulfils it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from config import TestConfig
from e2e.conftest import SCREENSHOTS

from helpers import PASSWORD
from worlds.personas import personas_world
from worlds.story import story_world

SIZES = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1280, "height": 800}}


@pytest.fixture(scope="module")
def story_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own with Pat's story: 155 points, bus passes at 20 points with 4 left in stock."""
    from werkzeug.serving import make_server

    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class RequestsConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('requests') / 'requests.db'}"

    app = create_app(RequestsConfig)
    with app.app_context():
        db.create_all()
    story_world(app, personas_world(app))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def open_page(browser, story_server) -> Iterator[Any]:
    contexts = []

    def opener(viewport: dict[str, int]) -> Any:
        context = browser.new_context(viewport=viewport, base_url=story_server)
        contexts.append(context)
        return context.new_page()

    yield opener
    for context in contexts:
        context.close()


def _sign_in(page: Any, username: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _points(text: str) -> int:
    return int(re.search(r"([\d,]+)\s*points", text).group(1).replace(",", ""))


@pytest.mark.parametrize("size", list(SIZES))
def test_a_portal_request_reaches_the_caseload_and_the_record_and_is_fulfilled(open_page, size):
    viewport = SIZES[size]
    width = viewport["width"]
    patient = open_page(viewport)
    _sign_in(patient, "pat")
    patient.goto("/portal/rewards")
    patient.get_by_label("How many").fill("2")
    with patient.expect_navigation():
        patient.get_by_role("button", name=re.compile(r"Ask for it\W+Bus pass")).click()
    assert "Your request for Bus pass is waiting at the desk." in patient.locator(".flash").inner_text()

    staff = open_page(viewport)
    _sign_in(staff, "cora")
    row = staff.locator("tr", has=staff.get_by_role("link", name="Pat Patient", exact=True))
    line = row.locator(".request-lines li").inner_text()
    assert re.fullmatch(r"Requested: 2 x Bus pass \(40 points\), \d\d [A-Z][a-z]{2}", line), line
    assert staff.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _shot(staff, f"requests-caseload-{width}.png")

    with staff.expect_navigation():
        row.get_by_role("link", name="Pat Patient", exact=True).click()
    assert staff.get_by_role("heading", name=re.compile("Requests waiting")).is_visible()
    assert staff.locator(".request-lines li").inner_text() == line
    _shot(staff, f"requests-record-{width}.png")
    with staff.expect_navigation():
        staff.get_by_role("link", name="Fulfil at the rewards desk for Pat Patient").click()

    assert staff.get_by_role("heading", level=1).inner_text() == "Rewards desk"
    balance = _points(staff.locator("section[aria-labelledby=desk-balance]").inner_text())
    free = _points(staff.locator("section[aria-labelledby=desk-available]").inner_text())
    assert free == balance - 40  # the request's points are set aside
    passes = staff.locator("tr", has_text="Bus pass").filter(has=staff.get_by_label("How many Bus pass"))
    most = int(passes.get_by_label("How many Bus pass").get_attribute("max"))
    in_stock = int(passes.locator("td[data-label='In stock']").inner_text())
    assert most == min(free // 20, in_stock)  # the free points, within the passes left in stock
    assert f"Bus pass (up to {most})" in staff.locator(".afford-line").inner_text()
    passes.get_by_label("How many Bus pass").fill("99")
    with staff.expect_navigation():
        passes.get_by_role("button", name="Redeem").click()
    error = staff.locator(".field-error").inner_text()
    assert error == f"Choose 1 to {most}.", error
    assert staff.get_by_label("How many Bus pass").input_value() == "99"  # what was typed is kept
    _shot(staff, f"requests-desk-{width}.png")

    requests = staff.locator("section[aria-labelledby=requests-title]")
    with staff.expect_navigation():
        requests.get_by_role("button", name="Fulfil and hand over").click()
    assert "2 x Bus pass" in staff.locator(".receipt").inner_text()
    staff.goto("/staff/")
    assert staff.locator(".request-lines").count() == 0
