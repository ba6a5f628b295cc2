"""The patient portal in a real browser: a phone and a desk, English and Spanish, screenshots to look at."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest

from config import TestConfig
from e2e.conftest import SCREENSHOTS

from helpers import PASSWORD
from worlds.personas import personas_world
from worlds.story import story_world

PHONE = {"width": 375, "height": 812}
DESK = {"width": 1440, "height": 900}
PAGES = {"home": "/portal/", "progress": "/portal/progress", "history": "/portal/history",
         "rewards": "/portal/rewards"}
HEADINGS = {
    "en": {"home": "Your rewards", "progress": "Your progress", "history": "Your history", "rewards": "Rewards"},
    "es": {"home": "Tus premios", "progress": "Tu progreso", "history": "Tu historial", "rewards": "Premios"},
}


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own with Pat's full story (results, a correction, a redemption, a prize waiting)."""
    from werkzeug.serving import make_server

    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class PortalConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('portal') / 'portal.db'}"

    app = create_app(PortalConfig)
    with app.app_context():
        db.create_all()
    story_world(app, personas_world(app))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def open_page(browser, portal_server) -> Iterator[object]:
    contexts = []

    def opener(viewport=DESK, locale="en-US"):
        context = browser.new_context(viewport=viewport, base_url=portal_server, locale=locale)
        contexts.append(context)
        return context.new_page()

    yield opener
    for context in contexts:
        context.close()


def sign_in(page, locale: str = "en") -> None:
    page.goto("/sign-in")
    page.get_by_label("Usuario" if locale == "es" else "Username").fill("pat")
    page.get_by_label("Contraseña" if locale == "es" else "Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Iniciar sesión" if locale == "es" else "Sign in").click()


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("size", ["phone", "desk"])
@pytest.mark.parametrize("name", list(PAGES))
def test_portal_pages_fit_phones_and_desks_in_both_languages(open_page, name, size, lang):
    viewport = PHONE if size == "phone" else DESK
    page = open_page(viewport, locale="es-ES" if lang == "es" else "en-US")
    sign_in(page, lang)
    page.goto(PAGES[name])
    assert page.get_by_role("heading", level=1).inner_text() == HEADINGS[lang][name]
    assert page.evaluate("document.documentElement.lang") == lang
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"portal-{name}-{lang}-{viewport['width']}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_patient_asks_for_a_reward_and_cancels_it_on_a_phone(open_page):
    page = open_page(PHONE)
    sign_in(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Rewards", exact=True).click()
    page.get_by_label("How many").fill("2")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"Ask for it\W+Bus pass")).click()
    assert "Your request for Bus pass is waiting at the desk." in page.locator(".flash").inner_text()
    assert "2 \u00d7 Bus pass" in page.locator("#waiting").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"Cancel request\W+2 . Bus pass")).click()
    assert "Your request for Bus pass is cancelled." in page.locator(".flash").inner_text()


def test_the_language_switch_works_with_the_keyboard_and_is_remembered(open_page):
    page = open_page(PHONE)
    sign_in(page)
    page.goto("/portal/history")
    page.get_by_role("button", name="Español").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/portal/history")
    assert page.get_by_role("heading", level=1).inner_text() == "Tu historial"
    assert page.get_by_role("button", name="Español").get_attribute("aria-pressed") == "true"
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your history"


def test_the_portal_works_with_javascript_turned_off(browser, portal_server):
    context = browser.new_context(viewport=PHONE, base_url=portal_server, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page)
        page.get_by_role("link", name="History", exact=True).click()
        assert page.get_by_role("heading", level=1).inner_text() == "Your history"
        assert page.get_by_text("Correction to your test of").count() == 2
    finally:
        context.close()
