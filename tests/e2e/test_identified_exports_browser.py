"""The managers' view of identified exports in a real browser, at 1280 and 375 px: the list, its filters, an export's
patients, and the Part 2 line on a printed report page (axe-core checks every page opened: tests/e2e/axe.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from config import TestConfig

from helpers import PASSWORD
from worlds.history import history_world
from worlds.personas import personas_world

SHOTS = Path("/tmp")
SIZES = [("desk", {"width": 1280, "height": 900}), ("phone", {"width": 375, "height": 812})]


def _exports(personas) -> None:
    """Thirty exports of the budget's cap table by Max over the last days, the full ledger by Ada, an accounting
    and a printed packet by Cora, and the funders' export (which the view leaves out)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent, AuditOutcome
    from cm_tracker.models.audit import listed
    from cm_tracker.timeutil import utcnow

    now, both = utcnow(), listed([personas.patient, personas.other_patient])

    def row(hours: float, **values: object) -> AuditEvent:
        return AuditEvent(occurred_at=now - timedelta(hours=hours), action="report.export",
                          outcome=AuditOutcome.SUCCESS, source_address="10.0.0.7", **values)

    max_, ada, cora = ({"user_id": uid, "username": name, "role": role} for uid, name, role in (
        (personas.manager, "max", "manager"), (personas.admin, "ada", "admin"),
        (personas.counselor, "cora", "counselor")))
    rows = [row(30 + n, **max_, object_type="report", object_id="budget/caps", patient_ids=both,
                detail={"program_id": personas.program, "counselor_id": personas.counselor, "from": "2026-11-02",
                        "to": "2026-11-30", "identified": True}) for n in range(30)]
    rows += [row(5, **ada, object_type="report", object_id="ledger", patient_ids=both,
                 detail={"program_id": None, "identified": True}),
             row(3, **cora, object_type="report", object_id="accounting-statement", patient_id=personas.patient,
                 patient_ids=listed([personas.patient]), detail={"from": "2023-11-20", "to": "2026-11-20"}),
             row(2, **cora, object_type="disclosure", object_id="4", patient_ids=listed([personas.patient]),
                 detail={"packet": True, "language": "es"}),
             row(1, **max_, object_type="report", object_id="funders", detail={"deidentified": True})]
    db.session.add_all(rows)
    db.session.commit()


@pytest.fixture(scope="module")
def exports_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A live server on the personas and history worlds with the exports above; yields (url, programme id)."""
    from werkzeug.serving import make_server

    from cm_tracker import create_app
    from cm_tracker.extensions import db

    class ExportsConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('exports') / 'exports.db'}"

    app = create_app(ExportsConfig)
    with app.app_context():
        db.create_all()
    people = personas_world(app)
    history_world(app, people)
    with app.app_context():
        _exports(people)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", people.program
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def signed_in(browser, exports_server) -> Iterator[object]:
    contexts = []

    def open_at(viewport: dict[str, int], username: str = "max"):
        context = browser.new_context(viewport=viewport, base_url=exports_server[0])
        contexts.append(context)
        page = context.new_page()
        page.goto("/sign-in")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        return page

    yield open_at
    for context in contexts:
        context.close()


def _fits(page) -> bool:
    """The page's own content fits the width (the site's navigation bar is the layout's, checked elsewhere)."""
    return page.evaluate("(m => m.scrollWidth <= m.clientWidth)(document.querySelector('main'))")


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_the_list_reads_well_and_pages_through_the_exports(signed_in, size, viewport):
    page = signed_in(viewport)
    page.goto("/reports/")
    with page.expect_navigation():
        page.get_by_role("link", name="View identified exports").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Identified exports"
    whats = page.locator("table.exports-table tbody th").all_inner_texts()
    assert whats[:4] == ["Disclosure packet #4", "Accounting of disclosures (printed statement)",
                         "The full ledger", "Budget report: cap use per patient"]
    page.screenshot(path=str(SHOTS / f"h5-exports-{size}.png"), full_page=True)
    page.locator("table.exports-table").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"h5-exports-{size}-table.png"))
    assert len(whats) == 25 and "funders" not in page.locator("table.exports-table").inner_text().lower()
    assert page.locator(".part2-line").is_visible() and _fits(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Older exports").click()
    assert page.locator("table.exports-table tbody th").count() == 8 and "page 2 of 2" in page.content()


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_the_filters_keep_what_was_typed_and_show_errors_beside_the_field(signed_in, size, viewport):
    page = signed_in(viewport)
    page.goto("/reports/exports")
    page.get_by_label("From (clinic date)").fill("2026-11-20")
    page.get_by_label("To (clinic date)").fill("2026-11-01")
    page.get_by_label("Patient").fill("Olive")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert page.locator("#date_to-error").inner_text().endswith("The end must be on or after the start.")
    page.screenshot(path=str(SHOTS / f"h5-exports-errors-{size}.png"), full_page=True)
    assert page.get_by_label("Patient").input_value() == "Olive" and _fits(page)
    page.get_by_label("From (clinic date)").fill("")
    page.get_by_label("To (clinic date)").fill("")
    page.get_by_label("Exported by").select_option(label="Ada Admin (ada, admin)")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert page.locator("table.exports-table tbody th").all_inner_texts() == ["The full ledger"]
    assert "Naming Olive Other (MRN-002)." in page.content()


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_an_exports_page_lists_its_patients(signed_in, size, viewport):
    page = signed_in(viewport)
    page.goto("/reports/exports")
    with page.expect_navigation():
        page.get_by_role("link", name="The full ledger").click()
    assert page.get_by_role("heading", level=1).inner_text() == "The full ledger"
    assert page.get_by_role("rowheader", name="Pat Patient").count() == 1  # a manager opens no staff record
    page.screenshot(path=str(SHOTS / f"h5-export-{size}.png"), full_page=True)
    assert "MRN-002" in page.locator("table").inner_text() and _fits(page)
    page.go_back()
    assert page.get_by_role("heading", level=1).inner_text() == "Identified exports"


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_a_printed_report_keeps_the_part2_line_and_drops_the_chrome(signed_in, exports_server, size, viewport):
    page = signed_in(viewport)
    page.goto(f"/reports/budget?program_id={exports_server[1]}")
    assert page.locator(".part2-line").is_visible()
    page.emulate_media(media="print")
    assert page.locator(".part2-line").is_visible() and not page.locator(".site-footer").is_visible()
    assert page.locator(".part2-line").evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)"
    page.screenshot(path=str(SHOTS / f"h5-budget-print-{size}.png"), full_page=True)
