"""Roll call on a phone (390x844) and a desk (1280x800): every choice within reach and who is already marked; a
catalog item's Spanish name typed in the catalog form and read by a patient whose portal speaks Spanish."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from config import TestConfig
from e2e.conftest import SCREENSHOTS

from helpers import PASSWORD
from worlds.personas import personas_world
from worlds.story import story_world

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1280, "height": 800}}


@dataclass(frozen=True)
class World:
    url: str
    bus_pass: int


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Pat's story (tests/worlds/story.py), and the desk programme of tests/desk with group sessions: Cora's Rita
    Marked, marked attended today by Max, and one unmarked patient per viewport."""
    from desk.conftest import enrol, make_program, moment
    from werkzeug.serving import make_server

    from cm_tracker import create_app
    from cm_tracker.extensions import db
    from cm_tracker.models import AttendanceStatus, Patient, User
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.usecases.attendance import record_attendance

    class RollCallConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('rollcall') / 'rollcall.db'}"

    app = create_app(RollCallConfig)
    with app.app_context():
        db.create_all()
    personas = personas_world(app)
    story = story_world(app, personas)
    with app.app_context():
        today, program = clinic_today(), make_program()
    start = today.replace(day=1) if today.day > 1 else today
    marked, _ = enrol(app, program, personas.counselor, name="Rita Marked", record="RC-1", start=start)
    for size in VIEWPORTS:
        enrol(app, program, personas.counselor, name=f"Sam {size.title()}", record=f"RC-{size}", start=start)
    with app.app_context():
        # A minute past midnight is never more than the allowed ten minutes ahead of the clock, whenever this runs.
        record_attendance(db.session.get(Patient, marked), occurred_at=moment(today, 0, 1), target_key="groups",
                          status=AttendanceStatus.ATTENDED, actor=db.session.get(User, personas.manager))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield World(f"http://127.0.0.1:{server.server_port}", story.bus_pass)
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def open_page(browser, world) -> Iterator[object]:
    contexts = []

    def opener(size: str, locale: str = "en-US"):
        context = browser.new_context(viewport=VIEWPORTS[size], base_url=world.url, locale=locale)
        contexts.append(context)
        return context.new_page()

    yield opener
    for context in contexts:
        context.close()


def sign_in(page, username: str, *, spanish: bool = False) -> None:
    page.goto("/sign-in")
    page.get_by_label("Usuario" if spanish else "Username").fill(username)
    page.get_by_label("Contraseña" if spanish else "Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Iniciar sesión" if spanish else "Sign in").click()


def shoot(page, name: str, size: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{VIEWPORTS[size]['width']}.png"), full_page=True)


def within_reach(locator) -> list[bool]:
    """For each element: whether it lies inside the viewport's width (nothing scrolled sideways out of sight)."""
    return locator.evaluate_all("""els => els.map(e => { const r = e.getBoundingClientRect();
        return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth; })""")


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_roll_call_keeps_every_choice_in_reach_and_shows_who_is_marked(open_page, size):
    page = open_page(size)
    sign_in(page, "cora")
    page.goto("/staff/rollcall")
    row = page.locator("tr", has=page.get_by_role("rowheader", name="Sam " + size.title()))
    options = within_reach(row.locator(".roll-option"))
    assert options == [True, True, True, True]  # attended, excused, unexcused, skip
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("[...document.querySelectorAll('.table-scroll')].every(e => e.scrollWidth <= e.clientWidth)")
    rita = page.locator("tr", has=page.get_by_role("rowheader", name="Rita Marked"))
    assert rita.get_by_role("radio").count() == 0
    assert "Attended" in rita.inner_text() and "by Max Manager" in rita.inner_text()
    assert rita.get_by_role("link", name="Correct this mark for Rita Marked").is_visible()
    shoot(page, "rollcall", size)
    row.get_by_role("radio", name=f"Sam {size.title()} RC-{size} Excused").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Record the roll call").click()
    assert f"Sam {size.title()} (excused)" in page.locator("#results-title + ul").inner_text()
    marked = page.locator("tr", has=page.get_by_role("rowheader", name="Sam " + size.title()))
    assert marked.get_by_role("radio").count() == 0 and "by Cora Counselor" in marked.inner_text()
    shoot(page, "rollcall-recorded", size)


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_a_spanish_name_typed_in_the_catalog_is_what_a_spanish_reader_sees(open_page, world, size):
    spanish_name = f"Pase de autobús ({size})"
    manager = open_page(size)
    sign_in(manager, "max")
    manager.goto(f"/catalog/rewards/{world.bus_pass}/edit")
    field = manager.get_by_label("Name in Spanish")
    assert within_reach(field) == [True]
    field.fill(spanish_name)
    shoot(manager, "catalog-spanish-name", size)
    with manager.expect_navigation():
        manager.get_by_role("button", name="Save").click()
    assert "Bus pass was saved." in manager.locator(".flash").inner_text()
    patient = open_page(size, locale="es-ES")
    sign_in(patient, "pat", spanish=True)
    patient.goto("/portal/rewards")
    assert patient.evaluate("document.documentElement.lang") == "es"
    offer = patient.get_by_role("heading", level=3, name=spanish_name)
    assert offer.is_visible() and patient.get_by_role("heading", level=3, name="Bus pass").count() == 0
    assert patient.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(patient, "portal-rewards-spanish-name", size)
    patient.goto("/portal/receipts")
    assert patient.get_by_role("link", name=spanish_name).is_visible()


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_the_spanish_progress_table_writes_money_in_spanish_after_an_english_reader(open_page, size):
    english = open_page(size)
    sign_in(english, "pat")
    english.goto("/portal/progress")
    english_cells = english.locator(".weeks-table td[data-label='Earned']").all_inner_texts()
    spanish = open_page(size, locale="es-ES")
    sign_in(spanish, "pat", spanish=True)
    spanish.goto("/portal/progress")
    cells = spanish.locator(".weeks-table td[data-label='Ganado']").all_inner_texts()
    assert len(cells) == len(english_cells) and cells
    assert all(c.strip().endswith("US$") or "sorteo" in c for c in cells), cells
    assert not any(c.strip().startswith("$") for c in cells), cells
    shoot(spanish, "portal-progress-spanish-money", size)
