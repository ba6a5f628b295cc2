"""Plausible dates only (docs/desk.md, "Dates a clinic would expect"): a corrected specimen stays within its
enrolment; the end of an enrolment, an excuse and a clinic closure lie at most a year ahead, and a closure not
before the first enrolment began. Each refusal is a field error in the API and beside the field on the page, with
what was typed kept.

Pinned to Tue 10 Mar 2026 at the clinic: Dana Desk is enrolled from Tue 3 Mar 2026 (the desk world), a year ahead
is Wed 10 Mar 2027.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from helpers import api_token, sign_in

pytestmark = pytest.mark.time_machine(datetime(2026, 3, 10, 19, 0, tzinfo=UTC))

START = date(2026, 3, 3)
A_YEAR_AHEAD = date(2027, 3, 10)
TOO_FAR = date(2027, 3, 11)
FAR_MESSAGE = "Choose a day at most a year ahead, on or before 2027-03-10."


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["error"]["fields"]


def _beside(html: str, field: str) -> str:
    """The message shown beside a field of a page form (templates/_macros.html)."""
    found = re.search(rf'id="{field}-error">(?:<span class="visually-hidden">[^<]*</span>)?([^<]*)</p>', html)
    assert found, f"no message beside {field}"
    return found.group(1)


def _specimen(client, headers, desk) -> dict:
    response = client.post(f"/api/v1/patients/{desk.patient}/specimens", headers=headers, json={
        "collected_at": "2026-03-09T18:00:00+00:00", "status": "final", "validity": "valid",
        "results": {"cocaine": "negative", "methamphetamine": "negative"}})
    assert response.status_code == 201
    return response.get_json()


def test_a_specimen_correction_cannot_move_the_collection_before_the_enrolment_began(client, desk):
    headers = api_token(client, "cora")
    created = _specimen(client, headers, desk)
    before = "2026-03-02T18:00:00+00:00"  # Mon 2 Mar at the clinic, the day before the enrolment began
    moved = client.patch(f"/api/v1/specimens/{created['id']}", headers=headers,
                         json={"version": 1, "reason": "Wrong day typed", "collected_at": before})
    new = client.post(f"/api/v1/patients/{desk.patient}/specimens", headers=headers, json={
        "collected_at": before, "status": "missed"})
    # The very check a new specimen passes, with its words.
    assert _fields(moved) == _fields(new) == {"collected_at": "Dana Desk has no enrollment covering 2026-03-02."}
    ledger = client.get(f"/api/v1/patients/{desk.patient}/ledger", headers=headers).get_json()["entries"]
    assert [(e["event"]["id"], e["points"]) for e in ledger] == [(created["id"], 10)]


def test_a_specimen_correction_within_the_enrolment_may_move_the_collection(client, desk):
    headers = api_token(client, "cora")
    created = _specimen(client, headers, desk)
    moved = client.patch(f"/api/v1/specimens/{created['id']}", headers=headers,
                         json={"version": 1, "reason": "Wrong day typed", "collected_at": "2026-03-03T18:00:00+00:00"})
    assert moved.status_code == 200 and moved.get_json()["version"] == 2


def test_the_correction_page_shows_a_collection_before_the_enrolment_beside_the_field(client, desk):
    created = _specimen(client, api_token(client, "cora"), desk)
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{desk.patient}/specimens/{created['id']}/correct", data={
        "version": "1", "reason": "Wrong day typed", "status": "final", "result_cocaine": "negative",
        "result_methamphetamine": "negative", "validity": "valid", "action": "confirm",
        "collected_on": "2026-03-02", "collected_time": "10:00"}).get_data(as_text=True)
    assert _beside(html, "collected_on") == "Dana Desk has no enrollment covering 2026-03-02."
    assert 'value="2026-03-02"' in html and 'value="Wrong day typed"' in html


def test_an_enrolment_cannot_end_more_than_a_year_ahead(client, desk):
    response = client.post(f"/api/v1/patients/{desk.patient}/enrollment/end", headers=api_token(client, "cora"),
                           json={"status": "completed", "on": TOO_FAR.isoformat(), "reason": "Finished"})
    assert _fields(response) == {"on": FAR_MESSAGE}
    again = client.get(f"/api/v1/patients/{desk.patient}", headers=api_token(client, "cora")).get_json()
    assert again["enrollment"]["status"] == "active"


def test_an_enrolment_may_end_a_year_ahead(client, desk):
    response = client.post(f"/api/v1/patients/{desk.patient}/enrollment/end", headers=api_token(client, "cora"),
                           json={"status": "completed", "on": A_YEAR_AHEAD.isoformat(), "reason": "Planned"})
    assert response.status_code == 200 and response.get_json()["end_date"] == A_YEAR_AHEAD.isoformat()


def test_the_end_page_shows_a_day_too_far_ahead_beside_the_field(client, desk):
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{desk.patient}/enrollment/end", data={
        "status": "completed", "on": TOO_FAR.isoformat(), "reason": "Finished the weeks"}).get_data(as_text=True)
    assert _beside(html, "on") == FAR_MESSAGE
    assert f'value="{TOO_FAR.isoformat()}"' in html and "Finished the weeks" in html


def test_an_excuse_cannot_be_more_than_a_year_ahead(client, desk):
    response = client.post(f"/api/v1/patients/{desk.patient}/excuses", headers=api_token(client, "cora"),
                           json={"on": TOO_FAR.isoformat(), "reason": "Surgery"})
    assert _fields(response) == {"on": FAR_MESSAGE}


def test_an_excuse_may_be_a_year_ahead_but_not_before_the_enrolment(client, desk):
    headers = api_token(client, "cora")
    ahead = client.post(f"/api/v1/patients/{desk.patient}/excuses", headers=headers,
                        json={"on": A_YEAR_AHEAD.isoformat(), "reason": "Surgery"})
    before = client.post(f"/api/v1/patients/{desk.patient}/excuses", headers=headers,
                         json={"on": "2026-03-02", "reason": "Surgery"})
    assert ahead.status_code == 201
    assert _fields(before) == {"on": "Dana Desk has no enrollment covering 2026-03-02."}


def test_the_excuse_page_shows_a_day_too_far_ahead_beside_the_field(client, desk):
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{desk.patient}/excuses/new", data={
        "on": TOO_FAR.isoformat(), "reason": "Surgery"}).get_data(as_text=True)
    assert _beside(html, "on") == FAR_MESSAGE
    assert f'value="{TOO_FAR.isoformat()}"' in html and 'value="Surgery"' in html


@pytest.mark.parametrize(("on", "message"), [
    (TOO_FAR, FAR_MESSAGE),
    (date(2026, 3, 2), "No patient was enrolled yet on that day: choose 2026-03-03 or later."),
])
def test_the_closures_page_refuses_an_implausible_day_beside_the_field(app, client, desk, on, message):
    from sqlalchemy import func, select

    from cm_tracker.extensions import db
    from cm_tracker.models import ClinicClosure

    sign_in(client, "ada")
    html = client.post("/staff/closures", data={"on": on.isoformat(), "reason": "Staff training"}).get_data(
        as_text=True)
    assert _beside(html, "on") == message
    assert f'value="{on.isoformat()}"' in html and 'value="Staff training"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ClinicClosure)) == 0


@pytest.mark.parametrize("on", [START, A_YEAR_AHEAD])
def test_a_closure_from_the_first_enrolment_to_a_year_ahead_is_recorded(client, desk, on):
    sign_in(client, "ada")
    html = client.post("/staff/closures", data={"on": on.isoformat(), "reason": "Staff training"},
                       follow_redirects=True).get_data(as_text=True)
    assert f"The clinic is recorded as closed on {on:%a %d %b %Y}." in html
