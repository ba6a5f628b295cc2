"""The programme form takes a visit plan as visits per week ("1-12: 2 a week"), stores the count with the usual
days, shows it on the programme page, and refuses a line it cannot read beside the field, keeping what was typed."""

from __future__ import annotations

import re

from programs.test_programme_pages import _created_id, _program

from helpers import sign_in

FORM = {"name": "Twice then once", "point_value": "0.25", "weeks": "24", "visit_days": ["tue", "fri"],
        "cap": "599.00", "cap_window": "episode", "dilute_policy": "failure", "target_label": "stimulants",
        "target_key": "stimulants", "target_kind": "abstinence", "analytes": "cocaine", "kind": "escalating",
        "start": "40", "step": "6", "escalate_per": "week", "recovery_after": "0"}


def test_visits_per_week_are_stored_with_the_programmes_days_as_the_usual_ones(app, client, personas):
    sign_in(client, "ada")
    response = client.post("/programmes/new/scratch", data={**FORM, "visit_plan": "1-12: 2 a week\n13-24: 1 a week"})
    program = _program(app, _created_id(response))
    assert program.visit_plan == [{"from_week": 1, "to_week": 12, "per_week": 2, "days": ["tue", "fri"]},
                                  {"from_week": 13, "to_week": 24, "per_week": 1, "days": ["tue"]}]
    html = client.get(f"/programmes/{program.id}").get_data(as_text=True)
    assert "weeks 1\u201312: 2 a week (usually Tue, Fri; each patient's days can differ)" in html


def test_the_usual_days_may_be_given_with_the_count(app, client, personas):
    sign_in(client, "ada")
    response = client.post("/programmes/new/scratch", data={**FORM, "visit_plan": "1-24: 1 a week, thu"})
    assert _program(app, _created_id(response)).visit_plan == [
        {"from_week": 1, "to_week": 24, "per_week": 1, "days": ["thu"]}]


def test_a_count_and_days_that_disagree_are_refused_beside_the_plan(client, personas):
    sign_in(client, "ada")
    html = client.post("/programmes/new/scratch", data={**FORM, "visit_plan": "1-24: 2 a week, thu"}).get_data(
        as_text=True)
    assert re.search(r'id="visit_plan-error">.*Give 2 default days, one per visit a week', html)
    assert "1-24: 2 a week, thu</textarea>" in html


def test_a_line_without_visits_or_days_is_refused_keeping_the_text(client, personas):
    sign_in(client, "ada")
    html = client.post("/programmes/new/scratch", data={**FORM, "visit_plan": "1-12: often"}).get_data(as_text=True)
    assert re.search(r'id="visit_plan-error">.*Line 1: write the weeks and their visits a week', html)
    assert "1-12: often</textarea>" in html
