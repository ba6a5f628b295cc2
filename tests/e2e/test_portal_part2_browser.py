"""The patient's Part 2 pages in a real browser, on a desk (1280 px) and a phone (375 px), in English and Spanish:
Pat reads their consents (in effect, for a group, ended, withdrawn) and who received their records, asks to withdraw
a consent, and a second tab or Back gets the plain "you already asked" answer. axe-core checks each page."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from config import TestConfig
from e2e.conftest import SCREENSHOTS

from helpers import PASSWORD
from worlds.personas import personas_world

SIZES = {"desk": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 812}}
LOCALES = {"en": "en-US", "es": "es-ES"}
HEADINGS = {"en": "Your privacy", "es": "Tu privacidad"}
WITHDRAW = {"en": "Withdraw a consent", "es": "Retirar un consentimiento"}
NAMED, GROUP = "Dr Ana Ruiz, Riverside Clinic", "My treating providers"


def _pat_consents(app: Any, patient_id: int, counselor_id: int) -> None:
    """Pat's consents, dated from the clinic's today: Dr Ana Ruiz for a year (shared five days ago), a group consent
    until Pat leaves the programme (shared 100 days ago), one that ended 20 days ago, one withdrawn 50 days ago."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.usecases.consents import (
        ConsentInput,
        DisclosureInput,
        record_consent,
        record_disclosure,
        revoke_consent,
    )

    with app.app_context():
        today, patient, cora = clinic_today(), db.session.get(Patient, patient_id), db.session.get(User, counselor_id)

        def consent(recipient: str, signed: int, **kw: Any) -> int:
            view = record_consent(patient, ConsentInput(
                information=kw.pop("information", "Urine test results and attendance"), recipient=recipient,
                purpose=kw.pop("purpose", "Coordinating my treatment"), signed_on=today - timedelta(days=signed),
                **kw), actor=cora)
            return view.consent.id

        def shared(consent_id: int, recipient: str, ago: int, what: str) -> None:
            record_disclosure(patient, DisclosureInput(consent_id, recipient, what, today - timedelta(days=ago)),
                              actor=cora)

        ended = consent("Riverside Drug Court", 400, expires_on=today - timedelta(days=20), purpose="Court reports")
        shared(ended, "Riverside Drug Court", 300, "Attendance of the past month")
        withdrawn = consent("Sunrise Housing", 100, expires_on=today + timedelta(days=300), purpose="Housing")
        shared(withdrawn, "Sunrise Housing", 60, "A letter confirming treatment")
        revoke_consent(_consent(withdrawn), today - timedelta(days=50), actor=cora)
        group = consent(GROUP, 200, expiry_event="When I leave the programme", recipient_kind="tpo_class",
                        purpose="Treatment, payment and health care operations")
        shared(group, "Dr Lee, Bay Hospital", 100, "Medication and test results")
        named = consent(NAMED, 30, expires_on=today + timedelta(days=365))
        shared(named, NAMED, 5, "Results of the past month")


def _consent(consent_id: int) -> Any:
    from cm_tracker.services.queries.consents import get_consent

    return get_consent(consent_id)


@pytest.fixture(scope="module")
def privacy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from werkzeug.serving import make_server

    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class PrivacyConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('privacy') / 'privacy.db'}"

    app = create_app(PrivacyConfig)
    with app.app_context():
        db.create_all()
    people = personas_world(app)
    _pat_consents(app, people.patient, people.counselor)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def open_page(browser, privacy_server) -> Iterator[Any]:
    contexts = []

    def opener(viewport: dict[str, int], lang: str = "en") -> Any:
        context = browser.new_context(viewport=viewport, base_url=privacy_server, locale=LOCALES[lang])
        contexts.append(context)
        return context

    yield opener
    for context in contexts:
        context.close()


def _signed_in(context: Any, lang: str = "en") -> Any:
    page = context.new_page()
    page.goto("/sign-in")
    page.get_by_label("Usuario" if lang == "es" else "Username").fill("pat")
    page.get_by_label("Contraseña" if lang == "es" else "Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Iniciar sesión" if lang == "es" else "Sign in").click()
    return page


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("lang", list(LOCALES))
@pytest.mark.parametrize("size", list(SIZES))
def test_the_privacy_page_fits_phones_and_desks_in_both_languages(open_page, size, lang):
    viewport = SIZES[size]
    page = _signed_in(open_page(viewport, lang), lang)
    with page.expect_navigation():
        page.get_by_role("link", name="Privacidad" if lang == "es" else "Privacy", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == HEADINGS[lang]
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.locator(".consent").count() == 4 and page.locator(".disclosure").count() == 4
    assert page.locator(".consent-action").count() == 2  # the named and the group consent are in effect
    assert _fits(page)
    _shot(page, f"portal-privacy-{lang}-{viewport['width']}.png")
    with page.expect_navigation():  # the confirmation page, read only: the flows below send it
        page.locator(".consent-action a").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == WITHDRAW[lang]
    assert _fits(page)
    _shot(page, f"portal-withdraw-{lang}-{viewport['width']}.png")


def test_a_patient_asks_to_withdraw_a_consent_on_a_phone_and_back_gets_the_plain_answer(open_page):
    page = _signed_in(open_page(SIZES["phone"]))
    page.goto("/portal/privacy")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(rf"Ask to withdraw this consent\W+{NAMED}")).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Withdraw a consent"
    assert "What was already shared stays shared" in page.locator("main").inner_text()
    page.get_by_label("Anything you want to tell the clinic").fill("I no longer see Dr Ruiz.")
    assert _fits(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, withdraw this consent").click()
    assert "Your request is sent." in page.locator(".flash").inner_text()
    card = page.locator(".consent", has_text=NAMED).first.inner_text()
    assert "Withdrawal asked" in card and "to withdraw it; the clinic will confirm." in card
    assert "Ask to withdraw" not in card
    _shot(page, "portal-privacy-asked-en-375.png")
    with page.expect_navigation():
        page.go_back()
    page.reload()  # the confirmation page as the server shows it now
    assert "You already asked on" in page.locator(".notice").inner_text()
    assert page.get_by_role("button", name="Yes, withdraw this consent").count() == 0


def test_a_second_tab_gets_the_plain_answer_in_spanish_on_a_desk(open_page):
    context = open_page(SIZES["desk"], "es")
    first = _signed_in(context, "es")
    first.goto("/portal/privacy")
    link = first.get_by_role("link", name=re.compile(rf"Pedir que se retire este consentimiento\W+{GROUP}"))
    address = link.get_attribute("href")
    second = context.new_page()
    second.goto(address)
    first.goto(address)
    assert first.get_by_role("heading", level=1).inner_text() == "Retirar un consentimiento"
    with first.expect_navigation():
        first.get_by_role("button", name="Sí, retirar este consentimiento").click()
    assert "Tu solicitud está enviada." in first.locator(".flash").inner_text()
    with second.expect_navigation():
        second.get_by_role("button", name="Sí, retirar este consentimiento").click()
    assert "Ya pediste el" in second.locator(".flash").inner_text()
    assert "no tienes que hacer nada más" in second.locator(".flash").inner_text()
    _shot(second, "portal-privacy-second-tab-es-1280.png")
