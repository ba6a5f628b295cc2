"""axe-core on every main page, in English and Spanish, on a phone (390px) and a desk (1280px).

The checks themselves are conftest's (tests/e2e/axe.py): each page a browser test opens is run through axe-core and
a critical or serious violation fails the test. This test makes sure every main page of every role is opened at
least once that way, on a clinic with a real history (results, a correction, a redemption, a prize waiting).
Staff pages are English only (cm_tracker/i18n.py), so a Spanish browser gets them in English; the sign-in, portal,
password and error pages answer in Spanish.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from config import TestConfig
from e2e.conftest import AXE

from helpers import PASSWORD
from worlds.personas import Personas, personas_world
from worlds.story import Story, story_world

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1280, "height": 800}}
LOCALES = {"en": "en-US", "es": "es-ES"}


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Personas, Story]]:
    from werkzeug.serving import make_server

    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class AxeConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('axe') / 'axe.db'}"

    app = create_app(AxeConfig)
    with app.app_context():
        db.create_all()
    people = personas_world(app)
    story = story_world(app, people)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", people, story
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


def pages_of(people: Personas, story: Story) -> dict[str | None, list[tuple[str, int]]]:
    """(path, expected status) for each role; None is a visitor who has not signed in."""
    patient = f"/staff/patients/{people.patient}"
    specimen = f"{patient}/specimens/{story.corrected_specimen}"
    programme = f"/programmes/{people.program}"
    report = f"?program_id={people.program}"
    return {
        None: [("/sign-in", 200), ("/no-such-page", 404)],
        "cora": [("/staff/", 200), (patient, 200), ("record-visit", 200), (f"{patient}/specimens/new", 200),
                 (specimen, 200), (f"{specimen}/correct", 200), ("/staff/rollcall", 200), ("/staff/close-day", 200),
                 (f"{patient}/rewards", 200), (f"/staff/redemptions/{story.fulfilled}/receipt", 200),
                 (f"{patient}/activities", 200), (f"{patient}/excuses/new", 200), (f"{patient}/edit", 200),
                 (f"{patient}/enrollment/end", 200), ("/staff/patients/new", 200), ("/catalog/", 200),
                 ("/account/password", 200), (f"/staff/patients/{people.other_patient}", 404), ("/admin/", 403)],
        "max": [("/reports/", 200), (f"/reports/outcomes{report}", 200), (f"/reports/fidelity{report}", 200),
                (f"/reports/budget{report}", 200), ("/programmes/", 200), (programme, 200), ("/programmes/new", 200),
                ("/programmes/new/scratch", 200), ("/programmes/new/preset/petry_prize_draws", 200),
                (f"{programme}/edit", 200), (f"{programme}/targets/stimulants/schedule", 200),
                (f"/catalog/rewards/{story.bus_pass}", 200), (f"/catalog/rewards/{story.bus_pass}/edit", 200),
                ("/catalog/rewards/new", 200), ("/catalog/adjustments", 200), ("/staff/labs/review", 200),
                ("/staff/labs/codes", 200), ("/staff/labs/messages", 200)],
        "ada": [("/admin/", 200), ("/admin/users/new", 200), ("/admin/audit", 200),
                (f"/admin/users/{people.counselor}/reset-password", 200), ("/staff/closures", 200)],
        "pat": [("/portal/", 200), ("/portal/progress", 200), ("/portal/history", 200), ("/portal/rewards", 200),
                ("/portal/receipts", 200), (f"/portal/receipts/{story.fulfilled}", 200), ("/account/password", 200),
                ("/staff/", 404)],
    }


def sign_in(page: Any, username: str) -> None:
    """By the fields' ids and the Enter key, which do not depend on the page's language."""
    page.goto("/sign-in")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("#password").press("Enter")


@pytest.mark.parametrize("lang", list(LOCALES))
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_every_main_page_has_no_serious_accessibility_violation(browser, clinic, size, lang):
    base_url, people, story = clinic
    viewport = VIEWPORTS[size]
    opened = []
    for username, pages in pages_of(people, story).items():
        if lang == "es" and username not in (None, "pat"):
            pages = pages[:1]  # English whatever the browser asks: once to show it, the rest is the English run's
        context = browser.new_context(viewport=viewport, base_url=base_url, locale=LOCALES[lang])
        try:
            page = context.new_page()
            if username:
                sign_in(page, username)
            # Staff pages are English whatever the browser asks for; the patient's and the visitor's follow it.
            expected_lang = lang if username in (None, "pat") else "en"
            for path, status in pages:
                if path == "record-visit":
                    page.goto(f"/staff/patients/{people.patient}")
                    path = page.locator("a[href$='/record'][href*='/visits/']").first.get_attribute("href")
                response = page.goto(path)
                assert response is not None and response.status == status, (username, path)
                assert page.evaluate("document.documentElement.lang") == expected_lang, (username, path)
                AXE.flush()
                assert AXE.was_checked(page.url, expected_lang, viewport["width"]), (username, path)
                opened.append(path)
        finally:
            AXE.flush()
            context.close()
    assert len(opened) == (sum(len(pages) for pages in pages_of(people, story).values()) if lang == "en" else
                           len(pages_of(people, story)[None]) + len(pages_of(people, story)["pat"]) + 3)


# A nameless button and an image without a text alternative: two critical violations (button-name, image-alt).
BROKEN = (b'<!doctype html><html lang="en"><head><title>Broken</title></head><body><main><h1>Broken</h1>'
          b'<button id="nameless"></button><img id="wordless" src="/static/favicon.svg"></main></body></html>')


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_page_with_a_critical_violation_fails_each_test_that_opens_it(browser, clinic, javascript):
    path = f"/axe-self-test-{'js' if javascript else 'nojs'}"
    context = browser.new_context(viewport=VIEWPORTS["desk"], base_url=clinic[0], java_script_enabled=javascript)
    reported = []
    try:
        page = context.new_page()
        page.route(f"**{path}", lambda route: route.fulfill(status=200, content_type="text/html", body=BROKEN))
        for _ in range(2):  # the second visit is answered from the cache, and fails all the same
            page.goto(path)
            page.goto("/sign-in")
            AXE.flush()
            broken = [key for key in AXE.failures if key[1] == path]  # (method, kind of page, language, width)
            reported.append(AXE.failures.pop(broken[0]) if broken else [])
            assert not AXE.failures  # the sign-in page has nothing serious
    finally:
        context.close()
    first, again = reported
    assert first == again
    assert len(first) == 2
    button, image = sorted(first)
    assert button.startswith("- [critical] button-name (Buttons must have discernible text) on ")
    assert f"{clinic[0]}{path} (lang=en, 1280px): #nameless" in button
    assert image.startswith("- [critical] image-alt (Images must have alternative text) on ")
    assert image.split(": ")[1].startswith("#wordless")
