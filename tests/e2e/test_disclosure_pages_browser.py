"""Recording a Part 2 disclosure and printing its packet in a real browser, on a desk (1280 px) and a phone (375 px):
Cora chooses Pat's consent, is refused for a recipient the consent does not name (the reason on the form, all she
typed kept), records the disclosure of Pat's November results and attendance as a Spanish packet, and prints it;
the packet carries the records, the 2.32 notice in Spanish and the copy of the consent. axe-core checks each page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from config import TestConfig
from e2e.conftest import SCREENSHOTS

from helpers import PASSWORD
from worlds.history import history_world
from worlds.personas import personas_world

SIZES = {"desk": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 812}}
RECIPIENT = "Dr Ana Ruiz, Riverside Clinic"


@pytest.fixture(scope="module")
def disclosure_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    """A server of its own: the history world (Pat's negatives of 2, 4 and 6 Nov 2026) and a consent Pat signed ten
    days ago to disclose to Dr Ana Ruiz for a year; Olive has none. Yields the address, Pat's id and Olive's."""
    from werkzeug.serving import make_server

    from cm_tracker import create_app
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.usecases.consents import ConsentInput, record_consent

    class DisclosureConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('disclosures') / 'disclosures.db'}"

    app = create_app(DisclosureConfig)
    with app.app_context():
        db.create_all()
    people = personas_world(app)
    history_world(app, people)
    with app.app_context():
        today = clinic_today()
        record_consent(db.session.get(Patient, people.patient), ConsentInput(
            information="Urine test results and attendance", recipient=RECIPIENT,
            purpose="Coordinating my treatment", signed_on=today - timedelta(days=10),
            expires_on=today + timedelta(days=365)), actor=db.session.get(User, people.counselor))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", people.patient, people.other_patient
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def open_page(browser, disclosure_server) -> Iterator[Any]:
    contexts = []

    def opener(viewport: dict[str, int]) -> Any:
        context = browser.new_context(viewport=viewport, base_url=disclosure_server[0])
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


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("size", list(SIZES))
def test_a_refused_recipient_is_explained_and_a_spanish_packet_is_printed(open_page, disclosure_server, size):
    viewport = SIZES[size]
    width = viewport["width"]
    page = open_page(viewport)
    _sign_in(page, "cora")
    page.goto(f"/staff/patients/{disclosure_server[1]}/disclosures/new")
    assert page.get_by_role("heading", name="What the consent permits").is_visible()
    assert page.get_by_label("Recipient").input_value() == RECIPIENT  # the named consent's recipient
    assert _fits(page)
    _shot(page, f"disclosure-form-{width}.png")

    page.get_by_label("Recipient").fill("Riverside Police Department")
    page.get_by_label("Records from").fill("2026-11-01")
    page.get_by_label("Español").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Record the disclosure").click()
    problems = page.locator("#problems-title + ul").inner_text()
    assert "not this recipient" in problems, problems
    assert page.get_by_label("Recipient").input_value() == "Riverside Police Department"  # kept
    assert page.get_by_label("Records from").input_value() == "2026-11-01"
    assert page.get_by_label("Español").is_checked()
    _shot(page, f"disclosure-refused-{width}.png")

    page.get_by_label("Recipient").fill(RECIPIENT)
    with page.expect_navigation():
        page.get_by_role("button", name="Record the disclosure").click()
    assert f"Recorded the disclosure to {RECIPIENT}" in page.locator(".flash").inner_text()
    sheet = page.locator(".packet-sheet")
    assert sheet.get_attribute("lang") == "es"
    text = sheet.inner_text()
    assert "Aviso que acompaña a la divulgación (42 CFR 2.32)" in text
    assert "Copia del consentimiento del paciente" in text
    assert "MRN-001" in text and "Definitivo" in text  # the history world's final results, in Spanish
    assert _fits(page)
    _shot(page, f"disclosure-packet-es-{width}.png")
    page.locator("#results-title").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"disclosure-packet-es-records-{width}.png"))  # the records, close up
    page.emulate_media(media="print")
    assert not page.locator(".packet-actions").is_visible()
    assert not page.locator(".site-header").is_visible()
    _shot(page, f"disclosure-packet-print-{width}.png")


def test_the_form_explains_when_no_consent_permits_a_disclosure(open_page, disclosure_server):
    page = open_page(SIZES["desk"])
    _sign_in(page, "max")  # a manager reaches every patient
    page.goto(f"/staff/patients/{disclosure_server[2]}/disclosures/new")
    assert page.get_by_role("heading", name="No consent permits a disclosure today").is_visible()
    assert page.get_by_role("link", name="See the consents of Olive Other").is_visible()
    _shot(page, "disclosure-no-consent-1280.png")
