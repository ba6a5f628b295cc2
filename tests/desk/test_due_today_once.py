"""A patient with a test and a session on the same day (the prize-draw preset: a stimulant test and a counseling
session on every visit day) is listed once under "Due today", with both visits and both actions, and counted once."""

from __future__ import annotations

import re

from desk.conftest import enrol

from helpers import sign_in


def _due(client) -> str:
    html = re.sub(r"\s+", " ", client.get("/staff/").get_data(as_text=True))
    return html[html.index('id="due-title"'):html.index("</section>", html.index('id="due-title"'))]


def test_a_patient_due_a_test_and_a_session_is_listed_once_with_both(client, desk):
    sign_in(client, "cora")
    due = _due(client)
    assert due.count(">Dana Desk</a>") == 1
    assert 'Due today <span class="count">1</span>' in due
    item = due[due.index(">Dana Desk</a>"):]
    assert "Drug test" in item and "Session: groups" in item
    assert item.index("Drug test") < item.index("Session: groups")  # the test first: what the desk records
    assert "Record test<span class=\"visually-hidden\"> for Dana Desk</span>" in item
    assert "Roll call<span class=\"visually-hidden\"> for Dana Desk</span>" in item


def test_the_due_count_counts_patients_not_visits(app, client, desk, personas):
    enrol(app, desk.program, personas.counselor, name="Erin Extra", record="MRN-D2", start=desk.start)
    sign_in(client, "cora")
    html = re.sub(r"\s+", " ", client.get("/staff/").get_data(as_text=True))
    assert re.search(r'id="due-count" class="stat-label">Due today</h2> <p class="stat-value">2</p> '
                     r'<p class="stat-sub">patients · ', html)
    due = _due(client)
    assert due.count(">Dana Desk</a>") == 1 and due.count(">Erin Extra</a>") == 1
    assert due.index(">Dana Desk</a>") < due.index(">Erin Extra</a>")  # by name
