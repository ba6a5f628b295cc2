"""The desk entry's traps in a browser, on a phone (390px) and a desk (1280px), issue 12 items 2, 3 and 6: Back
after saving and a second tab on the same visit show the visit as recorded (never a 404) and keep what was typed;
another date on a due visit's form asks which visit the specimen is for and the result names that day; a refused
form puts an error summary first, takes focus there and links each field (opening the collapsed section)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from e2e.conftest import wait_for_focus

from helpers import PASSWORD

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1280, "height": 800}}


def server_today(page) -> date:
    """The live server's clinic today, as its enrol form prefills the start date: the test never reads a clock of
    its own, so it and the server cannot disagree about the date (a run across the clinic's midnight)."""
    page.goto("/staff/patients/new")
    return date.fromisoformat(page.locator("#start_date").input_value())


def sign_in(page, username: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def enrol_since(page, days_ago: int) -> str:
    """A new patient of Cora's with a test due every day from `days_ago` days back; the patient page's path."""
    today = server_today(page)  # leaves the enrol form open
    page.fill("#display_name", f"Tess Trap {uuid.uuid4().hex[:4]}")
    page.fill("#record_number", f"TT-{uuid.uuid4().hex[:8]}")
    page.select_option("#program_id", label="Stimulant vouchers")
    page.fill("#start_date", (today - timedelta(days=days_ago)).isoformat())
    for box in page.locator("#visit_days input[type=checkbox]").all():
        box.check()
    with page.expect_navigation():
        page.get_by_role("button", name="Enrol").click()
    return page.get_by_role("link", name="Open the patient record").get_attribute("href")


def record_link(page, patient_path: str, day: date) -> str:
    page.goto(patient_path)
    return page.get_by_role("link", name=f"Record the test of {day:%a %d %b %Y}").get_attribute("href")


def type_results(page, *letters: str) -> None:
    """From the first analyte: a letter per group (results, validity, temperature, observed, method)."""
    page.locator("input[name=result_cocaine]").first.focus()
    for letter in letters:
        page.keyboard.press(letter)


def save(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Save and show the result").click()


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_back_after_saving_shows_the_visit_recorded_not_a_404(page_at, size):
    page = page_at(VIEWPORTS[size])
    sign_in(page, "cora")
    path = record_link(page, enrol_since(page, 0), server_today(page))
    page.goto(path)
    wait_for_focus(page, "name", "result_cocaine")
    type_results(page, "n", "n", "v", "y", "y", "p")
    save(page)
    assert "Your test is negative" in page.locator(".tell-sentence").inner_text()
    back = page.go_back()
    assert back is not None and back.status == 200
    assert page.get_by_role("heading", name="This visit is already recorded").is_visible()
    wait_for_focus(page, "id", "recorded")
    assert "Recorded by Cora Counselor on" in page.locator("#recorded").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="Show the result to tell the patient").click()
    assert "Your test is negative" in page.locator(".tell-sentence").inner_text()
    assert fits(page)


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_a_second_tab_keeps_what_was_typed_and_says_the_results_conflict(page_at, size):
    first = page_at(VIEWPORTS[size])
    sign_in(first, "cora")
    path = record_link(first, enrol_since(first, 0), server_today(first))
    second = first.context.new_page()
    first.goto(path)
    second.goto(path)
    wait_for_focus(first, "name", "result_cocaine")
    type_results(first, "n", "n", "v", "y", "y", "p")
    save(first)
    wait_for_focus(second, "name", "result_cocaine")
    type_results(second, "p", "n", "v", "y", "y", "l")  # the second tab says cocaine positive, by the lab
    with second.expect_navigation() as answered:
        second.get_by_role("button", name="Save and show the result").click()
    assert answered.value.status == 409
    wait_for_focus(second, "id", "recorded")
    notice = second.locator("#recorded").inner_text()
    assert "This visit is already recorded" in notice and "What you typed differs from what is recorded" in notice
    assert "Cocaine: recorded Negative, you typed Positive" in notice
    assert "Method: recorded Point of care cup, you typed Lab" in notice
    typed = second.locator(".typed-form")
    assert typed.locator("input[name=result_cocaine][value=positive]").is_checked()
    assert typed.locator("input[name=method][value=lab]").is_checked()
    assert fits(second)
    with second.expect_navigation() as corrected:
        second.get_by_role("link", name="Correct the recorded result").click()
    assert corrected.value.status == 200 and second.url.endswith("/correct")


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_another_date_on_a_due_visits_form_asks_which_visit_and_names_its_day(page_at, size):
    from cm_tracker.services.queries.desk import day_words

    page = page_at(VIEWPORTS[size])
    sign_in(page, "cora")
    today = server_today(page)
    yesterday = today - timedelta(days=1)
    patient_path = enrol_since(page, 3)
    path = record_link(page, patient_path, today)
    page.goto(path)
    wait_for_focus(page, "name", "result_cocaine")
    page.get_by_text("Time, note, analytes not tested").click()
    page.fill("#collected_on", yesterday.isoformat())
    type_results(page, "n", "n", "v", "y", "y", "p")
    save(page)
    wait_for_focus(page, "name", "belongs_to")
    assert (f"This form is for the test due {today:%a %d %b %Y}, but the collection date is "
            f"{yesterday:%a %d %b %Y}.") in page.locator("#which-visit").inner_text()
    page.get_by_label(f"The visit of {day_words(yesterday, today)}", exact=False).check()
    assert fits(page)
    save(page)
    sentence = page.locator(".tell-sentence").inner_text()
    assert f"you earned 10 points ($2.50) on {day_words(yesterday, today)}." in sentence and "today" not in sentence
    page.goto(patient_path)
    assert page.get_by_role("link", name=f"Record the test of {today:%a %d %b %Y}").count() == 1
    assert page.get_by_role("link", name=f"Record the test of {yesterday:%a %d %b %Y}").count() == 0


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_a_refused_form_puts_the_error_summary_first_and_focus_on_it(page_at, size):
    page = page_at(VIEWPORTS[size])
    sign_in(page, "cora")
    tomorrow = (server_today(page) + timedelta(days=1)).isoformat()
    patient_path = enrol_since(page, 0)
    page.goto(patient_path + "/specimens/new")
    wait_for_focus(page, "name", "result_cocaine")
    page.evaluate(f"document.getElementById('collected_on').value = '{tomorrow}'")  # in the collapsed section
    type_results(page, "n", "n")  # validity and the rest left unanswered
    save(page)
    wait_for_focus(page, "id", "error-summary")
    summary = page.locator("#error-summary")
    box = summary.bounding_box()
    assert box is not None and 0 <= box["y"] < VIEWPORTS[size]["height"]  # where the eye is
    links = summary.get_by_role("link")
    assert links.all_inner_texts() == [
        "Validity: Say whether the specimen was valid, dilute, adulterated, substituted or invalid.",
        "Collected on: The collection time is in the future."]
    assert page.locator("#more").get_attribute("open") is not None
    links.first.click()
    assert page.evaluate("document.activeElement.name") == "validity"
    links.last.click()
    assert page.evaluate("document.activeElement.id") == "collected_on"
    assert fits(page)


def test_the_error_summary_takes_focus_without_javascript(browser, live_server):
    context = browser.new_context(viewport=VIEWPORTS["desk"], base_url=live_server[0], java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, "cora")
        page.goto(enrol_since(page, 0) + "/specimens/new")
        page.check("input[name=result_cocaine][value=negative]")
        page.check("input[name=result_methamphetamine][value=negative]")
        save(page)
        wait_for_focus(page, "id", "error-summary")
        assert page.locator("#error-summary a[href='#validity']").count() == 1
    finally:
        context.close()
