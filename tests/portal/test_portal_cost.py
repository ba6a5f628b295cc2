"""The portal stays quick however long the history (issue 10, item 3): its pages cost the same number of SQL
statements for a history of 10 events as for one of 60, and the home and progress pages never replay the history
through the engine (they read the stored state and the report cache); the history page replays it at most once."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from factories import at, specimen
from helpers import PASSWORD, sign_in
from worlds.clinic import clinic_world

PAGES = ("/portal/", "/portal/history", "/portal/progress")


def _patient_with(app: Flask, events: int, name: str) -> None:
    """A patient of their own clinic world with `events` tests ending ... N N M P, then the last one corrected to a
    negative, a staff adjustment and a redemption, all through the services: the newest lines are of every kind."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Specimen, User
    from cm_tracker.services.usecases import accounts, adjustments, catalog, redemptions
    from cm_tracker.services.usecases.specimens import correct_specimen, record_specimen

    clinic = clinic_world(app, cap_cents=100_000_000)
    patient = db.session.get(Patient, clinic.patient_id)
    counselor = db.session.get(User, clinic.counselor_id)
    manager = accounts.create_user(username=f"{name}-boss", password=PASSWORD, role="manager")
    codes = "PMNN"  # read backwards from the last test
    ids = [record_specimen(patient, specimen(codes[(events - 1 - i) % 4], collected_at=at(i)),
                           actor=counselor).specimen.id for i in range(events)]
    last = db.session.get(Specimen, ids[-1])
    correct_specimen(last, version=last.version, reason="lab", actor=counselor,
                     changes={"results": {"cocaine": "negative", "methamphetamine": "negative"}})
    adjustments.post_adjustment(patient, points=5, draws=0, reason="Helped out", actor=manager)
    bus = catalog.create_reward(catalog.RewardInput(name="Bus pass", value_cents=500, cost_points=20,
                                                    program_id=clinic.program_id), opening_stock=5, actor=manager)
    redemptions.redeem(patient, bus, 1, actor=counselor)
    accounts.create_user(username=name, password=PASSWORD, role="patient", display_name=name.title(),
                         patient_id=patient.id)


@contextmanager
def _counted(app) -> Iterator[dict[str, int]]:
    """Counts SQL statements, ledger entries loaded as rows, and engine evaluations (evaluate_program, wherever a
    module imported it)."""
    from cm_tracker.engine import program
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry

    seen = {"statements": 0, "evaluations": 0, "entries": 0}
    original = program.evaluate_program

    def counting(*args: Any, **kwargs: Any) -> Any:
        seen["evaluations"] += 1
        return original(*args, **kwargs)

    holders = [m for name, m in list(sys.modules.items())
               if name.startswith("cm_tracker") and getattr(m, "evaluate_program", None) is original]
    for module in holders:
        module.evaluate_program = counting

    def count(*_: Any) -> None:
        seen["statements"] += 1

    def loaded(*_: Any) -> None:
        seen["entries"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    event.listen(LedgerEntry, "load", loaded)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(LedgerEntry, "load", loaded)
        for module in holders:
            module.evaluate_program = original


def _cost(app, client, username: str, url: str) -> dict[str, int]:
    sign_in(client, username)
    client.get(url)  # the first request of a session warms what every request reads once (the account)
    with _counted(app) as seen:
        response = client.get(url)
    assert response.status_code == 200
    return seen


@pytest.fixture
def short_and_long(app: Flask) -> tuple[str, str]:
    """Two patients' portal accounts, "shorty" with 10 tests and "longer" with 60 (tests/worlds/clinic.py, built in
    an app context of their own, so each request below starts with an empty session as in production)."""
    with app.app_context():
        _patient_with(app, 10, "shorty")
        _patient_with(app, 60, "longer")
    return "shorty", "longer"


@pytest.mark.parametrize("url", PAGES)
def test_a_portal_page_costs_the_same_statements_for_10_events_as_for_60(app, short_and_long, url):
    short, long = (_cost(app, app.test_client(), name, url) for name in short_and_long)
    assert short["statements"] == long["statements"]
    assert short["statements"] < 60  # a fixed handful, nowhere near one per event


@pytest.mark.parametrize("url", ["/portal/", "/portal/progress"])
def test_home_and_progress_make_no_engine_evaluation(app, short_and_long, url):
    for name in short_and_long:
        assert _cost(app, app.test_client(), name, url)["evaluations"] == 0


@pytest.mark.parametrize(("url", "shown"), [("/portal/", 5), ("/portal/history", 25),
                                           ("/portal/history?page=3", 25)])
def test_only_the_lines_shown_are_built(app, short_and_long, url, shown, monkeypatch):
    from cm_tracker.patient import routes

    monkeypatch.setattr(routes, "HISTORY_PAGE", 25)
    assert _cost(app, app.test_client(), short_and_long[1], url)["entries"] <= shown  # of some 80 entries


def test_the_history_page_makes_at_most_one_evaluation(app, short_and_long):
    for name in short_and_long:
        assert _cost(app, app.test_client(), name, "/portal/history")["evaluations"] <= 1


def test_home_still_tells_the_latest_lines_and_streak(app, short_and_long):
    client = app.test_client()
    sign_in(client, "longer")
    html = client.get("/portal/").get_data(as_text=True)
    assert "Exchanged for Bus pass" in html and "Adjustment by the clinic staff: 5 points" in html
    # The 60th test (a positive, corrected to a negative) now ends a run of one: 10 points.
    assert "Correction to your test of Mar 5, 2026: Negative for stimulants, 1st in a row." in html
    assert "1 in a row" in html and "Your next negative test earns 15 points ($3.75)." in html
