"""Each role signs in with a real browser and lands on its home page; keyboard use; phone and desk layouts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.conftest import DESK, PHONE, SCREENSHOTS, sign_in, wait_for_focus

from helpers import PASSWORD

HOMES = {
    "ada": ("/admin/", "Users and programmes"),
    "max": ("/reports/", "Programme overview"),
    "cora": ("/staff/", "Your caseload"),
    "pat": ("/portal/", "Your rewards"),
}






def fits_without_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("username", list(HOMES))
def test_each_role_signs_in_and_lands_on_its_home_page(page_at, username):
    page = page_at()
    sign_in(page, username)
    path, heading = HOMES[username]
    assert page.url.endswith(path)
    assert page.get_by_role("heading", level=1).inner_text() == heading


def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_content(page_at):
    page = page_at()
    sign_in(page, "cora")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.textContent]")
    assert focused == ["skip-link", "Skip to main content"]
    expect(page.locator(".skip-link")).to_be_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_signing_in_works_with_the_keyboard_alone(page_at):
    page = page_at()
    page.goto("/sign-in")
    wait_for_focus(page, "id", "username")  # the form's first field has focus
    page.keyboard.type("pat")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/portal/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your rewards"


def test_the_patient_field_appears_only_for_the_patient_role(page_at):
    page = page_at()
    sign_in(page, "ada")
    page.goto("/admin/users/new")
    expect(page.get_by_label("Patient record")).to_be_hidden()
    page.get_by_label("Role").select_option("patient")
    expect(page.get_by_label("Patient record")).to_be_visible()


SCREENS = [
    ("sign-in", None, "/sign-in"),
    ("admin-home", "ada", "/admin/"),
    ("admin-create-user-errors", "ada", "/admin/users/new"),
    ("admin-audit", "ada", "/admin/audit"),
    ("manager-home", "max", "/reports/"),
    ("counselor-home", "cora", "/staff/"),
    ("counselor-patient", "cora", "/staff/patients/1"),
    ("patient-home", "pat", "/portal/"),
    ("not-found", "cora", "/staff/patients/2"),
]


@pytest.mark.parametrize("size", ["phone", "desk"])
@pytest.mark.parametrize(("name", "username", "path"), SCREENS, ids=[s[0] for s in SCREENS])
def test_pages_fit_phones_and_desks(page_at, name, username, path, size):
    viewport = PHONE if size == "phone" else DESK
    page = page_at(viewport)
    if username:
        sign_in(page, username)
    page.goto(path)
    if name == "admin-create-user-errors":
        page.get_by_label("Username").fill("Bad Name!")
        with page.expect_navigation():
            page.get_by_role("button", name="Create user").click()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport['width']}.png"), full_page=True)
    assert fits_without_sideways_scrolling(page)
