"""Prize programmes in a real browser (issue 12, items 7 and 8): a fishbowl patient's portal speaks in draws and
prizes, and the rewards desk hands over many prizes of one tier from one grouped form; at a phone (390px) and a desk
(1280px) width, in English and Spanish."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from e2e.conftest import SCREENSHOTS

from helpers import PASSWORD

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}
# Every slip wins a small prize, so the desk always has a group to hand over.
BOWL = [{"tier": "good_job", "slips": 0, "value_cents": 0}, {"tier": "small", "slips": 1, "value_cents": 100}]


def _api(request: Any, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = request.fetch(f"/api/v1{path}", method=method, headers=headers, data=body)
    assert response.ok, (path, response.status, response.text())
    return response.json()


@pytest.fixture(scope="module")
def bowl_world(browser, live_server) -> Iterator[dict[str, Any]]:
    """Through the API: a counselor of their own (Gil), a fishbowl programme whose every slip wins a small prize,
    its patient Fay with a portal account, 12 draws of which 10 are drawn (10 small prizes waiting) and a cabinet of
    12 water bottles."""
    context = browser.new_context(base_url=live_server[0])
    request = context.request

    def token(username: str) -> str:
        return _api(request, "POST", "/auth/tokens", body={"username": username, "password": PASSWORD})["token"]

    ada, max_ = token("ada"), token("max")
    _api(request, "POST", "/users", ada, {"username": "gil", "password": PASSWORD, "role": "counselor",
                                          "display_name": "Gil Grouped"})
    program = _api(request, "POST", "/programs", max_, {
        "name": "Fishbowl grouped", "point_value_cents": 25, "weeks": 12, "visit_days": ["mon", "thu"],
        "cap_cents": 50000, "cap_window": "episode",
        "targets": [{"key": "stimulants", "kind": "abstinence", "analytes": ["cocaine"], "schedule": {
            "kind": "prize_draws", "start_draws": 1, "step_draws": 1, "bowl": BOWL}}]})
    gil = token("gil")
    patient = _api(request, "POST", "/patients", gil, {
        "display_name": "Fay Fishbowl", "record_number": "MRN-E2E-9", "program_id": program["id"],
        "start_date": "2026-11-02"})
    _api(request, "POST", "/users", ada, {"username": "fay", "password": PASSWORD, "role": "patient",
                                          "display_name": "Fay Fishbowl", "patient_id": patient["id"]})
    _api(request, "POST", "/rewards", max_, {"name": "Water bottle", "tier": "small", "value_cents": 100,
                                             "stock": 12, "program_id": program["id"]})
    _api(request, "POST", f"/patients/{patient['id']}/adjustments", max_,
         {"draws": 12, "reason": "Draws carried over from paper records"})
    _api(request, "POST", f"/patients/{patient['id']}/draws", gil, {"count": 10})
    yield {"patient": patient["id"]}
    context.close()


@pytest.fixture
def open_page(browser, live_server) -> Iterator[Any]:
    contexts = []

    def open_at(viewport: dict[str, int], locale: str = "en-US") -> Any:
        context = browser.new_context(viewport=viewport, base_url=live_server[0], locale=locale)
        contexts.append(context)
        return context.new_page()

    yield open_at
    for context in contexts:
        context.close()


def _sign_in(page: Any, username: str) -> None:
    page.goto("/sign-in")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form button[type=submit]").first.click()


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def _quantity(text: str) -> int:
    """The number of a group's "\u00d7 47"."""
    found = re.search(r"\d+", text)
    assert found, text
    return int(found.group())


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@pytest.mark.parametrize(("viewport", "size"), [(PHONE, "390"), (DESK, "1280")])
def test_the_fishbowl_portal_shows_draws_and_prizes_not_points(open_page, bowl_world, viewport, size):
    page = open_page(viewport)
    _sign_in(page, "fay")
    page.goto("/portal/")
    card = page.locator(".balance-card").inner_text()
    assert re.search(r"\d+\s+prize draws? waiting", card), card
    assert re.search(r"\d+ prizes? to collect, worth \$\d+\.00", card), card
    assert "point" not in card and "$0.00" not in card
    assert _fits(page)
    _shot(page, f"portal-fishbowl-home-{size}.png")
    page.goto("/portal/rewards")
    assert "prizes are waiting for you to collect" in page.locator(".points-card").inner_text()
    assert "You have 0 points" not in page.content()
    assert _fits(page)
    _shot(page, f"portal-fishbowl-rewards-{size}.png")


def test_the_fishbowl_portal_speaks_spanish(open_page, bowl_world):
    page = open_page(PHONE, locale="es-ES")
    _sign_in(page, "fay")
    page.goto("/portal/")
    card = page.locator(".balance-card").inner_text()
    assert "sorteos de premios pendientes" in card and "por recoger, con un valor de" in card, card
    assert "puntos" not in card
    assert _fits(page)
    _shot(page, "portal-fishbowl-home-es-390.png")


@pytest.mark.parametrize(("viewport", "size"), [(PHONE, "390"), (DESK, "1280")])
def test_many_prizes_of_one_tier_are_handed_over_from_one_grouped_form(open_page, bowl_world, viewport, size):
    page = open_page(viewport)
    _sign_in(page, "gil")
    page.goto(f"/staff/patients/{bowl_world['patient']}/rewards")
    groups = page.locator("form.prize")
    assert groups.count() == 1
    before = _quantity(groups.first.locator(".prize-quantity").inner_text())
    assert before >= 3
    assert _fits(page)
    _shot(page, f"rewards-desk-grouped-{size}.png")
    group = groups.first
    group.get_by_label("How many to hand over now").fill("3")
    with page.expect_navigation():
        group.get_by_role("button", name=re.compile("Hand over the chosen prize")).click()
    assert "Handed over 3 x Water bottle (small prizes, $3.00)." in page.locator(".flash").first.inner_text()
    assert _quantity(page.locator("form.prize .prize-quantity").first.inner_text()) == before - 3
    assert _fits(page)
    _shot(page, f"rewards-desk-grouped-after-{size}.png")
