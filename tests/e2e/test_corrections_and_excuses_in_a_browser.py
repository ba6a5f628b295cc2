"""Issue 12, items 4 and 5, in a browser at phone (390px) and desk (1280px) widths: an excused visit shows as excused
with nothing to record, and a correction's confirmation lists every adjustment it posted, naming each test."""

from __future__ import annotations

import re
import uuid

import pytest

from e2e.test_desk_entry_in_a_browser import enrol_by_keyboard, sign_in_by_keyboard

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}


def _enrol(page, name: str) -> str:
    """A new patient (a test visit every day from today) and the path of their record."""
    sign_in_by_keyboard(page, "cora")
    enrol_by_keyboard(page, f"{name} {uuid.uuid4().hex[:4]}", f"KX-{uuid.uuid4().hex[:8]}")
    return page.get_by_role("link", name="Open the patient record").get_attribute("href")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["phone", "desk"])
def test_an_excused_visit_shows_its_excuse_and_offers_nothing_to_record(page_at, viewport):
    page = page_at(viewport)
    patient_path = _enrol(page, "Esme Excused")
    page.goto(patient_path)
    open_visits = page.locator("#open-visits")
    assert open_visits.get_by_role("link", name=re.compile("^Record")).count() == 1
    page.goto(patient_path + "/excuses/new")
    page.get_by_label("Reason").fill("Court date")
    with page.expect_navigation():
        page.get_by_role("button", name="Excuse").click()
    row = page.locator("#open-visits .desk-item").first
    assert "Excused: Court date" in row.inner_text()
    assert row.get_by_role("link").count() == 0  # neither Record nor Excuse
    assert page.locator("#open-visits-title .count").inner_text() == "0"
    assert row.get_by_text("Excused: Court date").is_visible()
    assert _fits(page)


def _record(page, patient_path: str, cocaine: str, minutes_before_now: int) -> None:
    """A final result at a time a few minutes before the form's own "now" (the live server's clock), never before
    the clinic's midnight: the patient is enrolled from today, whatever time of day the test runs."""
    page.goto(patient_path + "/specimens/new")
    page.locator("#status input[value=final]").check()
    page.locator(f"#result_cocaine input[value={cocaine}]").check()
    page.locator("#result_methamphetamine input[value=negative]").check()
    for group, value in (("validity", "valid"), ("temperature_ok", "yes"), ("observed", "yes"), ("method", "poc")):
        page.locator(f"#{group} input[value={value}]").check()
    page.get_by_text("Time, note, analytes not tested").click()  # the collapsed section holds the time
    now = page.locator("input[name=collected_time]").input_value()  # HH:MM, prefilled with the clinic's now
    hour, minute = map(int, now.split(":")[:2])
    at = max(hour * 60 + minute - minutes_before_now, 0)
    page.locator("input[name=collected_time]").fill(f"{at // 60:02d}:{at % 60:02d}")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Save|Record")).first.click()
    assert re.search(r"/specimens/\d+$", page.url), page.url


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["phone", "desk"])
def test_the_confirmation_lists_both_adjustments_of_a_correction(page_at, viewport):
    page = page_at(viewport)
    patient_path = _enrol(page, "Cory Corrected")
    _record(page, patient_path, "positive", 2)
    positive = page.url
    _record(page, patient_path, "negative", 1)  # 10 points: the first of a run
    page.goto(positive + "/correct")
    page.locator("#result_cocaine input[value=negative]").check()
    page.get_by_label("Reason for the correction").fill("Lab says negative")
    with page.expect_navigation():
        page.get_by_role("button", name="Preview the adjustments").click()
    preview = page.locator(".preview").inner_text()
    assert "Confirming posts 2 adjustments" in preview and "Net change: +15 points ($3.75)" in preview
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm the correction").click()
    assert "/corrected?posted=" in page.url
    entries = page.locator("#posted-title + .entry-list .entry")
    assert entries.count() == 2
    assert [entries.nth(i).locator(".entry-amount").inner_text().strip() for i in range(2)] == ["+10 points",
                                                                                               "+5 points"]
    assert all(re.match(r"Test of \w{3} \d\d \w{3} \d{4} · stimulants", entries.nth(i).locator(".entry-event")
                        .inner_text()) for i in range(2))
    sentence = page.locator(".tell-sentence").inner_text()
    assert re.match(r"Your test of \w{3} \d\d \w{3} \d{4} is corrected: you get 15 points \(\$3\.75\) more\.",
                    sentence) and "today" not in sentence
    assert page.get_by_text("Net change: +15 points ($3.75)").is_visible()
    assert _fits(page)
