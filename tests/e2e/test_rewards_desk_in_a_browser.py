"""The rewards desk in a real browser: draw, choose and hand over a prize with a second person, redeem a voucher,
print the receipt; screenshots at phone and desk sizes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from e2e.conftest import SCREENSHOTS

from helpers import PASSWORD

PHONE = {"width": 375, "height": 812}
DESK = {"width": 1440, "height": 900}
BOWL = [{"tier": "good_job", "slips": 1, "value_cents": 0}, {"tier": "small", "slips": 4, "value_cents": 100},
        {"tier": "large", "slips": 1, "value_cents": 2000}]


def _api(request: Any, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = request.fetch(f"/api/v1{path}", method=method, headers=headers, data=body)
    assert response.ok, (path, response.status, response.text())
    return response.json()


@pytest.fixture(scope="module")
def desk_world(browser, live_server) -> Iterator[dict[str, Any]]:
    """Through the API: a counselor of their own (so other browser tests keep their caseloads), a second staff member,
    a prize-draw programme with two-person control, its patient with points and draws, a catalog and a cabinet."""
    context = browser.new_context(base_url=live_server[0])
    request = context.request

    def token(username: str) -> str:
        return _api(request, "POST", "/auth/tokens", body={"username": username, "password": PASSWORD})["token"]

    ada, max_ = token("ada"), token("max")
    for username, name in (("dee", "Dee Desk"), ("sam", "Sam Second")):
        _api(request, "POST", "/users", ada, {"username": username, "password": PASSWORD, "role": "counselor",
                                              "display_name": name})
    program = _api(request, "POST", "/programs", max_, {
        "name": "Fishbowl desk", "point_value_cents": 25, "weeks": 12, "visit_days": ["mon", "thu"],
        "cap_cents": 50000, "cap_window": "episode", "requires_two_person_handover": True,
        "targets": [{"key": "stimulants", "kind": "abstinence", "analytes": ["cocaine"], "schedule": {
            "kind": "prize_draws", "start_draws": 1, "step_draws": 1, "bowl": BOWL}}]})
    patient = _api(request, "POST", "/patients", token("dee"), {
        "display_name": "Dana Draws", "record_number": "MRN-E2E-7", "program_id": program["id"],
        "start_date": "2026-11-02"})
    for item in ({"name": "Grocery gift card", "cost_points": 40, "value_cents": 1000, "stock": 6},
                 {"name": "Bus day pass", "cost_points": 20, "value_cents": 500},
                 {"name": "Movie ticket", "cost_points": 200, "value_cents": 1500, "stock": 2},
                 {"name": "Water bottle", "tier": "small", "value_cents": 100, "stock": 4,
                  "program_id": program["id"]},
                 {"name": "Lip balm", "tier": "small", "value_cents": 100, "stock": 1, "program_id": program["id"]},
                 {"name": "Headphones", "tier": "large", "value_cents": 2000, "stock": 1,
                  "program_id": program["id"]}):
        _api(request, "POST", "/rewards", max_, item)
    _api(request, "POST", f"/patients/{patient['id']}/adjustments", max_,
         {"points": 150, "draws": 4, "reason": "Opening balance carried over from paper records"})
    yield {"patient": patient["id"]}
    context.close()


@pytest.fixture
def page_at(browser, live_server) -> Iterator[Any]:
    contexts = []

    def open_page(viewport: dict[str, int] = DESK) -> Any:
        context = browser.new_context(viewport=viewport, base_url=live_server[0])
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page: Any, username: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _shot_at(page: Any, selector: str, name: str) -> None:
    """A screen-sized picture with the section at the top: what the person at the desk sees there."""
    page.locator(selector).first.scroll_into_view_if_needed()
    page.evaluate("(s) => document.querySelector(s).scrollIntoView()", selector)
    page.screenshot(path=str(SCREENSHOTS / name))


def test_the_desk_draws_hands_over_a_prize_with_a_second_person_and_prints_a_receipt(page_at, desk_world):
    page = page_at()
    sign_in(page, "dee")
    page.goto(f"/staff/patients/{desk_world['patient']}")
    with page.expect_navigation():
        page.get_by_role("link", name="Open the rewards desk").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Rewards desk"
    _shot(page, "rewards-desk-before-draw-1440.png")
    page.get_by_label("Draws to make now").fill("4")
    with page.expect_navigation():
        page.get_by_role("button", name="Draw with the patient").click()
    assert page.locator(".slip").count() == 4
    prizes = page.locator("form.prize")
    if prizes.count() == 0:
        pytest.skip("four good-job slips in a row (a 1-in-1296 chance): nothing to hand over this time")
    first = prizes.first
    first.locator("label.choice").first.click()
    first.get_by_label("Second staff member's username").fill("dee")
    first.get_by_label("Their password").fill(PASSWORD)
    with page.expect_navigation():
        first.get_by_role("button", name="Hand over the chosen prize").click()
    assert "Someone other than the person handing over must confirm." in page.content()
    _shot(page, "rewards-desk-confirmer-refused-1440.png")
    first = page.locator("form.prize").first
    first.locator("label.choice").first.click()
    first.get_by_label("Second staff member's username").fill("sam")
    first.get_by_label("Their password").fill(PASSWORD)
    with page.expect_navigation():
        first.get_by_role("button", name="Hand over the chosen prize").click()
    assert "Prize hand-over receipt" in page.content() and "Sam Second" in page.content()
    _shot(page, "rewards-prize-receipt-1440.png")


def test_redeeming_a_voucher_opens_a_receipt_that_prints_cleanly(page_at, desk_world):
    page = page_at()
    sign_in(page, "dee")
    page.goto(f"/staff/patients/{desk_world['patient']}/rewards")
    row = page.locator("tr", has_text="Grocery gift card")
    row.get_by_label("How many Grocery gift card").fill("2")
    with page.expect_navigation():
        row.get_by_role("button", name="Redeem").click()
    text = page.locator(".receipt").inner_text()
    assert "2 x Grocery gift card" in text and "$20.00" in text and "Dana Draws" in text and "MRN-E2E-7" in text
    _shot(page, "rewards-receipt-1440.png")
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden() and page.locator(".receipt-actions").is_hidden()
    _shot(page, "rewards-receipt-print.png")


@pytest.mark.parametrize(("viewport", "size"), [(PHONE, "375"), (DESK, "1440")])
def test_the_desk_and_a_receipt_fit_a_phone_and_a_desk(page_at, desk_world, viewport, size):
    page = page_at(viewport)
    sign_in(page, "dee")
    page.goto(f"/staff/patients/{desk_world['patient']}/rewards")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _shot(page, f"rewards-desk-{size}.png")
    if size == "375":
        for section in ("prizes", "catalog", "receipts"):
            _shot_at(page, f"#{section}-title", f"rewards-desk-{section}-375.png")
    receipt = page.locator(".receipt-list a").first
    if receipt.count():
        with page.expect_navigation():
            receipt.click()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        _shot(page, f"rewards-receipt-{size}.png")


def test_a_manager_sees_low_stock_on_the_catalog(page_at, desk_world):
    page = page_at()
    sign_in(page, "max")
    page.goto("/catalog/")
    assert "Low stock" in page.locator("#low-title").inner_text()
    _shot(page, "catalog-1440.png")
    phone = page_at(PHONE)
    sign_in(phone, "max")
    phone.goto("/catalog/")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _shot(phone, "catalog-375.png")
