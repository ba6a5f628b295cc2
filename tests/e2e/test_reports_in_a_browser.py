"""The manager's report pages in a real browser, on a small scaled history: phone and desk, charts, no JS needed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from config import TestConfig
from e2e.conftest import SCREENSHOTS

from helpers import PASSWORD

PHONE = {"width": 375, "height": 812}
DESK = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def report_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A live server whose database holds 80 scaled patients and a manager; yields (url, programme id)."""
    from sqlalchemy import func, select
    from werkzeug.serving import make_server

    from cm_tracker import create_app
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.usecases import accounts
    from cm_tracker.tooling.scale import build_scale

    class ReportConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'reports.db'}"

    app = create_app(ReportConfig)
    with app.app_context():
        db.create_all()
        build_scale(80, seed=11, today=clinic_today())
        accounts.create_user(username="max", password=PASSWORD, role="manager", display_name="Max Manager")
        program_id = db.session.execute(select(Enrollment.program_id).group_by(Enrollment.program_id)
                                        .order_by(func.count().desc()).limit(1)).scalar_one()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", program_id
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def open_page(browser, report_server) -> Iterator[object]:
    contexts = []

    def open_at(viewport: dict[str, int]):
        context = browser.new_context(viewport=viewport, base_url=report_server[0], java_script_enabled=False)
        contexts.append(context)
        page = context.new_page()
        page.goto("/sign-in")
        page.get_by_label("Username").fill("max")
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        return page

    yield open_at
    for context in contexts:
        context.close()


@pytest.mark.parametrize("report", ["outcomes", "fidelity", "budget"])
@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desk", DESK)])
def test_each_report_page_reads_well_on_phone_and_desk(open_page, report_server, report, size, viewport):
    page = open_page(viewport)
    page.goto(f"/reports/{report}?program_id={report_server[1]}")
    assert page.get_by_role("heading", level=1).inner_text() == report.capitalize()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"reports-{report}-{size}.png"), full_page=True)
    page.screenshot(path=str(SCREENSHOTS / f"reports-{report}-{size}-top.png"))
    page.locator("section.card").nth(2).scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"reports-{report}-{size}-chart.png"))


def test_the_charts_are_labelled_images_beside_their_tables(open_page, report_server):
    page = open_page(DESK)
    page.goto(f"/reports/outcomes?program_id={report_server[1]}")
    charts = page.get_by_role("img")
    assert charts.count() == 2
    assert "Percent negative by week" in (page.locator("svg title").first.text_content() or "")
    assert page.get_by_role("region", name="Percent negative by week, as numbers").count() == 1


def test_the_filters_work_without_javascript(open_page, report_server):
    page = open_page(DESK)
    page.goto(f"/reports/outcomes?program_id={report_server[1]}")
    page.get_by_label("From (clinic date)").fill("2026-09-01")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert "date_from=2026-09-01" in page.url
    assert "Tue 01 Sep 2026 to" in page.locator(".programme-head").inner_text()
