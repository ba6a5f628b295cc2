"""Desk entry driven by the keyboard alone, on a phone (375x812) and a desk monitor (1440x900): enrol a patient,
record a negative test from today's visit, and read the award and the sentence to tell the patient."""

from __future__ import annotations

import re
import uuid

import pytest

from e2e.conftest import SCREENSHOTS, wait_for_focus

from helpers import PASSWORD

VIEWPORTS = {"phone": {"width": 375, "height": 812}, "desk": {"width": 1440, "height": 900}}


def keys(page, *presses: str) -> None:
    for press in presses:
        page.keyboard.press(press)


def sign_in_by_keyboard(page, username: str) -> None:
    page.goto("/sign-in")
    wait_for_focus(page, "id", "username")
    page.keyboard.type(username)
    keys(page, "Tab")
    page.keyboard.type(PASSWORD)
    keys(page, "Enter")
    page.wait_for_url("**/staff/")


def tab_to(page, name: str) -> None:
    for _ in range(12):
        if page.evaluate("document.activeElement.name") == name:
            return
        keys(page, "Tab")
    raise AssertionError(f"Tab never reached {name}")


def enrol_by_keyboard(page, name: str, record: str) -> None:
    page.goto("/staff/patients/new")
    wait_for_focus(page, "id", "display_name")
    page.keyboard.type(name)
    keys(page, "Tab")
    page.keyboard.type(record)
    keys(page, "Tab")
    page.keyboard.type("Stimulant")  # a focused select picks the option typed
    tab_to(page, "visit_days")
    for _ in range(7):  # a visit every day, so that one is due today whatever the day
        keys(page, "Space", "Tab")
    tab_to(page, "portal_username")
    with page.expect_navigation():
        keys(page, "Enter")
    assert page.get_by_role("heading", level=1).inner_text() == f"{name} is enrolled"


def shoot(page, name: str, size: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"desk-{name}-{VIEWPORTS[size]['width']}.png"), full_page=True)


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_a_negative_test_is_recorded_with_the_keyboard_alone_and_the_result_tells_the_patient(page_at, size):
    page = page_at(VIEWPORTS[size])
    sign_in_by_keyboard(page, "cora")
    name = f"Kim {size.title()} {uuid.uuid4().hex[:4]}"
    enrol_by_keyboard(page, name, f"KB-{uuid.uuid4().hex[:8]}")
    page.goto("/staff/")
    shoot(page, "dashboard", size)
    record = page.get_by_role("link", name=f"Record test for {name}")
    page.goto(record.get_attribute("href"))
    wait_for_focus(page, "name", "result_cocaine")  # autofocus on the first analyte
    shoot(page, "entry", size)
    # Seven keys record the test, well within ten seconds for a practised counselor (speed itself is not timed here):
    # n, n: both analytes negative; v: valid; y: temperature in range; y: observed; p: point of care; Enter saves.
    for key in ("n", "n", "v", "y", "y", "p"):
        page.keyboard.press(key)
    assert page.evaluate("document.activeElement.name") == "status"
    keys(page, "Enter")
    page.wait_for_url("**/specimens/*")
    sentence = page.locator(".tell-sentence").inner_text()
    assert sentence == ("Your test is negative: you earned 10 points ($2.50) today. "
                        "Your next negative test earns 15 points.")
    assert "1st in a row for stimulants: 10 points" in page.locator(".entry-reason").first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, "result", size)


def test_arrow_keys_and_space_work_without_the_letter_shortcuts(page_at):
    page = page_at(VIEWPORTS["desk"])
    sign_in_by_keyboard(page, "cora")
    name = f"Lee Arrows {uuid.uuid4().hex[:4]}"
    enrol_by_keyboard(page, name, f"KA-{uuid.uuid4().hex[:8]}")
    page.goto("/staff/")
    page.goto(page.get_by_role("link", name=f"Record test for {name}").get_attribute("href"))
    wait_for_focus(page, "name", "result_cocaine")
    # Space picks the focused option; Tab moves to the next group; Down moves within a group.
    keys(page, "Space", "Tab", "Space", "Tab", "Space", "Tab", "Space", "Tab", "Space", "Tab", "ArrowDown",
         "ArrowUp")
    assert page.evaluate("document.activeElement.value") == "poc"
    keys(page, "Enter")
    page.wait_for_url("**/specimens/*")
    assert "Your test is negative" in page.locator(".tell-sentence").inner_text()


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_the_desk_pages_fit_phones_and_desks(page_at, size):
    page = page_at(VIEWPORTS[size])
    sign_in_by_keyboard(page, "cora")
    name = f"Mo Screens {uuid.uuid4().hex[:4]}"
    enrol_by_keyboard(page, name, f"KS-{uuid.uuid4().hex[:8]}")
    patient_path = page.get_by_role("link", name="Open the patient record").get_attribute("href")
    shoot(page, "enrolled", size)
    page.goto(patient_path + "/specimens/new")
    wait_for_focus(page, "name", "result_cocaine")
    for key in ("n", "p", "v", "y", "y", "p"):
        page.keyboard.press(key)
    keys(page, "Enter")
    page.wait_for_url(re.compile(r".*/specimens/\d+$"))
    result_url = page.url
    pages = {"patient": patient_path, "correct": result_url + "/correct", "rollcall": "/staff/rollcall",
             "activities": patient_path + "/activities", "excuse": patient_path + "/excuses/new",
             "enrol-form": "/staff/patients/new"}
    for label, path in pages.items():
        page.goto(path)
        if label == "correct":
            page.get_by_label("Reason for the correction").fill("Lab confirmed negative")
            page.get_by_role("radio", name="Negative").nth(1).check()
            with page.expect_navigation():
                page.get_by_role("button", name="Preview the adjustments").click()
            assert "Confirming posts" in page.locator(".preview").inner_text()
        shoot(page, label, size)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), label
