"""Issue 12, item 1, in a browser (phone and desk widths): choosing missed, excused or refused hides the result groups
at the desk and on the correction page, and a final result corrects to missed without clearing a radio by hand."""

from __future__ import annotations

import re
import uuid

import pytest

from e2e.conftest import DESK, PHONE
from e2e.test_desk_entry_in_a_browser import enrol_by_keyboard, sign_in_by_keyboard

RESULTS = "fieldset#results"


def _results_shown(page) -> bool:
    return page.locator(RESULTS).is_visible()


def _choose(page, status: str) -> None:
    page.locator(f"#status input[value={status}]").check()


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["phone", "desk"])
def test_missed_hides_the_results_at_the_desk_and_on_the_correction_page(page_at, viewport):
    page = page_at(viewport)
    sign_in_by_keyboard(page, "cora")
    enrol_by_keyboard(page, f"Ria Status {uuid.uuid4().hex[:4]}", f"KM-{uuid.uuid4().hex[:8]}")
    patient_path = page.get_by_role("link", name="Open the patient record").get_attribute("href")
    page.goto(patient_path + "/specimens/new")
    assert _results_shown(page)
    for status in ("missed", "excused", "refused"):
        _choose(page, status)
        assert not _results_shown(page), status
    _choose(page, "final")
    assert _results_shown(page)
    for analyte in ("cocaine", "methamphetamine"):
        page.locator(f"#result_{analyte} input[value=negative]").check()
    for group, value in (("validity", "valid"), ("temperature_ok", "yes"), ("observed", "yes"), ("method", "poc")):
        page.locator(f"#{group} input[value={value}]").check()
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Save|Record")).first.click()
    assert re.search(r"/specimens/\d+$", page.url)

    page.goto(page.url + "/correct")
    assert _results_shown(page) and page.locator("#result_cocaine input[value=negative]").is_checked()
    _choose(page, "missed")
    assert not _results_shown(page)
    assert page.locator("#result_cocaine input[value=negative]").is_disabled()  # so it is not posted
    page.get_by_label("Reason for the correction").fill("Cup was never given")
    with page.expect_navigation():
        page.get_by_role("button", name="Preview the adjustments").click()
    assert "Confirming posts" in page.locator(".preview").inner_text()
    assert not _results_shown(page)  # the re-rendered form keeps missed, and the results stay hidden
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm the correction").click()
    assert re.search(r"/specimens/\d+/corrected", page.url)  # the confirmation lists what was posted
    page.goto(page.url.split("/corrected")[0] + "/correct")
    assert page.locator("#status input[value=missed]").is_checked() and not _results_shown(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
