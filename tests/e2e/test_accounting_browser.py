"""The accounting of disclosures in a real browser: the staff page at desk and phone sizes (a bad window refused
beside its field, the CSV downloaded), and the statement for the patient in English and Spanish, on screen and as
printed. axe-core checks every page opened (tests/e2e/conftest.py); screenshots go to test-artifacts/screenshots.

The window is chosen in every address, so what the pages show does not depend on the day the test runs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.conftest import SCREENSHOTS, sign_in

from helpers import PASSWORD

PHONE = {"width": 375, "height": 812}
DESK = {"width": 1280, "height": 900}
WINDOW = "from=2025-12-01&to=2026-11-30"


def _api(request: Any, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = request.fetch(f"/api/v1{path}", method=method, headers=headers, data=body)
    assert response.ok, (path, response.status, response.text())
    return response.json()


@pytest.fixture(scope="module")
def accounting_world(browser, live_server) -> Iterator[dict[str, Any]]:
    """Through the API: a counselor of their own (other browser tests keep their caseloads), their patient, a named
    consent and a class consent, and three disclosures, one of them with the packet cm-tracker printed."""
    context = browser.new_context(base_url=live_server[0])
    request = context.request

    def token(username: str) -> str:
        return _api(request, "POST", "/auth/tokens", body={"username": username, "password": PASSWORD})["token"]

    _api(request, "POST", "/users", token("ada"), {"username": "acca", "password": PASSWORD, "role": "counselor",
                                                   "display_name": "Acca Counselor"})
    acca = token("acca")
    patient = _api(request, "POST", "/patients", acca, {
        "display_name": "Rosa Registro", "record_number": "MRN-E2E-25", "program_id": live_server[1].program,
        "start_date": "2026-11-02"})["id"]
    named = _api(request, "POST", f"/patients/{patient}/consents", acca, {
        "recipient": "Dr Ana Ruiz, Riverside Clinic", "purpose": "Coordinating my treatment",
        "information": "Urine test results and attendance", "signed_on": "2025-12-01", "expires_on": "2030-11-30"})
    tpo = _api(request, "POST", f"/patients/{patient}/consents", acca, {
        "recipient_kind": "tpo_class", "recipient": "My treating providers at Riverside Health",
        "purpose": "Treatment, payment and health care operations", "information": "My records in the programme",
        "signed_on": "2025-12-01", "expires_on": "2030-11-30"})
    for consent, recipient, description, day, records in (
            (named, "Dr Ana Ruiz, Riverside Clinic", "Results of December 2025", "2026-01-15", None),
            (tpo, "Dr Lee, Riverside cardiology", "", "2026-06-10",
             {"from": "2026-06-01", "to": "2026-06-09", "include": ["results", "attendance"], "language": "en"}),
            (named, "Dr Ana Ruiz, Riverside Clinic", "Attendance of November 2026", "2026-11-20", None)):
        body = {"consent_id": consent["id"], "recipient": recipient, "description": description,
                "disclosed_on": day, **({"records": records} if records else {})}
        _api(request, "POST", f"/patients/{patient}/disclosures", acca, body)
    yield {"patient": patient}
    context.close()


@pytest.fixture
def page_at(browser, live_server) -> Iterator[Any]:
    contexts = []

    def open_page(viewport: dict[str, int] = DESK) -> Any:
        context = browser.new_context(viewport=viewport, base_url=live_server[0], accept_downloads=True)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"accounting-{name}.png"), full_page=True)


@pytest.mark.parametrize(("size", "viewport"), [("desk", DESK), ("phone", PHONE)])
def test_the_accounting_page_lists_the_window_latest_first_with_class_and_packet(page_at, accounting_world, size,
                                                                                viewport):
    page = page_at(viewport)
    sign_in(page, "acca")
    page.goto(f"/staff/patients/{accounting_world['patient']}/disclosures?{WINDOW}")
    rows = page.locator("table.accounting-table tbody tr")
    assert rows.count() == 3
    assert "Fri 20 Nov 2026" in rows.nth(0).inner_text() and "Thu 15 Jan 2026" in rows.nth(2).inner_text()
    middle = rows.nth(1).inner_text()
    assert "Dr Lee, Riverside cardiology" in middle and "My treating providers at Riverside Health" in middle
    assert rows.nth(1).get_by_role("link", name="Packet").count() == 1
    assert rows.nth(0).get_by_role("link", name="Packet").count() == 0
    _shot(page, f"page-{size}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], "the page scrolls sideways"


def test_a_reversed_window_is_refused_beside_the_field_and_keeps_what_was_typed(page_at, accounting_world):
    page = page_at(PHONE)
    sign_in(page, "acca")
    page.goto(f"/staff/patients/{accounting_world['patient']}/disclosures")
    page.get_by_label("From").fill("2026-06-01")
    page.get_by_label("To").fill("2026-05-01")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert page.locator("#to-error").inner_text().endswith("Must not be before the first day (from).")
    assert (page.get_by_label("From").input_value(), page.get_by_label("To").input_value()) == (
        "2026-06-01", "2026-05-01")
    _shot(page, "refused-phone")
    page.go_back()
    assert page.locator("h1").inner_text() == "Accounting of disclosures"


def test_the_csv_downloads_with_the_notice_row_first(page_at, accounting_world):
    page = page_at(DESK)
    sign_in(page, "max")
    page.goto(f"/staff/patients/{accounting_world['patient']}/disclosures?{WINDOW}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == "accounting-of-disclosures-MRN-E2E-25-2025-12-01-2026-11-30.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][0].startswith("# 42 CFR part 2 prohibits") and rows[1][0] == "disclosed_on"
    assert [r[0] for r in rows[2:-1]] == ["2026-11-20", "2026-06-10", "2026-01-15"]
    assert rows[-1] == ["# end of export: 3 rows"]


@pytest.mark.parametrize(("language", "title", "dated"), [
    ("en", "Accounting of disclosures", "Jun 10, 2026"),
    ("es", "Informe de divulgaciones", "10 jun 2026"),
])
def test_the_statement_prints_for_the_patient_in_their_language(page_at, accounting_world, language, title, dated):
    page = page_at(DESK)
    sign_in(page, "acca")
    page.goto(f"/staff/patients/{accounting_world['patient']}/disclosures?{WINDOW}")
    link = "Print statement (Spanish)" if language == "es" else "Print statement (English)"
    with page.expect_navigation():
        page.get_by_role("link", name=link).click()
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("h1").inner_text() == title
    assert dated in page.locator("table.statement-table").inner_text()
    assert page.get_by_role("button", name="Print").is_visible()
    _shot(page, f"statement-{language}-desk")
    page.emulate_media(media="print")
    # An A4 sheet less its margins is narrower than a desk: the printed layout must hold there too.
    page.set_viewport_size({"width": 680, "height": 960})
    assert not page.locator(".statement-bar").is_visible()
    header, first = page.locator("table.statement-table thead th"), page.locator("table.statement-table tbody tr")
    assert header.count() == 4 and header.nth(1).bounding_box()["x"] == first.nth(0).locator("td").nth(0) \
        .bounding_box()["x"], "the printed table's columns line up under their headings"
    _shot(page, f"statement-{language}-print")
    page.emulate_media(media="screen")
    page.set_viewport_size(PHONE)
    _shot(page, f"statement-{language}-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
