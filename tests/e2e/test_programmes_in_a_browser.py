"""Programme administration in a real browser: the list, creating from a preset, and the schedule editor's preview
of the most a patient can earn against the cap, on a phone and on a desk monitor."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import DESK, PHONE, SCREENSHOTS, sign_in

from helpers import A_MONDAY

SIZES = {"phone": PHONE, "desk": DESK}






def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def fits_without_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def create_california(page, name: str) -> None:
    page.goto("/programmes/new")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"Use this preset\W+California-like")).click()
    page.get_by_label("Name").fill(name)
    with page.expect_navigation():
        page.get_by_role("button", name="Create programme").click()


@pytest.mark.time_machine(A_MONDAY)  # California-like's $756 is the maximum of a Monday start
@pytest.mark.parametrize("size", list(SIZES))
def test_a_manager_sees_the_programme_list_and_the_presets_with_their_sources(page_at, size):
    page = page_at(SIZES[size])
    sign_in(page, "max")
    page.goto("/programmes/")
    assert page.get_by_role("heading", level=1).inner_text() == "Programmes"
    expect(page.get_by_role("link", name="Stimulant vouchers")).to_be_visible()
    assert fits_without_sideways_scrolling(page)
    shoot(page, f"programmes-list-{size}")

    with page.expect_navigation():
        page.get_by_role("link", name="New programme").click()
    expect(page.get_by_text("Freese TE et al.", exact=False)).to_be_visible()
    assert fits_without_sideways_scrolling(page)
    shoot(page, f"programmes-presets-{size}")

    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"Use this preset\W+California-like")).click()
    expect(page.get_by_text("Over the cap by $157.00")).to_be_visible()
    assert fits_without_sideways_scrolling(page)
    shoot(page, f"programmes-preset-create-{size}")


@pytest.mark.time_machine(A_MONDAY)  # California-like's $756 is the maximum of a Monday start
@pytest.mark.parametrize("size", list(SIZES))
def test_the_schedule_editor_previews_the_maximum_against_the_cap_without_saving(page_at, size):
    page = page_at(SIZES[size])
    sign_in(page, "ada")
    create_california(page, f"California browser {size}")
    expect(page.get_by_text("not the DHCS schedule itself", exact=False)).to_be_visible()

    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"Change schedule\W+for stimulants")).click()
    page.get_by_label("Points added for each success in a row").fill("4")
    page.get_by_label("Most points one success can earn").fill("72")
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()

    expect(page.get_by_text("Preview, not saved")).to_be_visible()
    expect(page.get_by_text("Fits the cap").first).to_be_visible()
    expect(page.get_by_text("Over the cap by $157.00")).to_be_visible()  # today's schedule, beside it
    assert fits_without_sideways_scrolling(page)
    shoot(page, f"programmes-schedule-preview-{size}")
