"""PUT /api/v1/patients/{id}/visit-days: new visit days from a date on, with the docs/api.md error bodies."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api_support import audit_rows, fields_of, headers_for, patient_body, program_body


def clinic_today(app) -> date:
    from cm_tracker.timeutil import clinic_date, utcnow

    return clinic_date(utcnow(), app.config["CLINIC_TIMEZONE"])


@pytest.fixture
def enrolled(app, client, personas) -> int:
    """A patient of Cora's caseload in a 12-week test programme (Mondays, Wednesdays, Fridays) from today."""
    program = client.post("/api/v1/programs", headers=headers_for(client, "max"), json=program_body()).get_json()
    body = patient_body(program["id"], start_date=clinic_today(app).isoformat())
    return client.post("/api/v1/patients", headers=headers_for(client, "cora"), json=body).get_json()["id"]


def put(client, patient_id: int, username: str = "cora", **body):
    body = {"visit_days": ["tue", "thu"], "version": 1, **body}
    return client.put(f"/api/v1/patients/{patient_id}/visit-days", headers=headers_for(client, username), json=body)


def test_the_answer_is_the_enrollment_with_its_new_days(app, client, enrolled):
    body = put(client, enrolled, **{"from": clinic_today(app).isoformat()}).get_json()
    assert (body["visit_days"], body["status"], body["patient_version"]) == (["tue", "thu"], "active", 2)


def test_the_answer_lists_the_first_visits_on_the_new_days(app, client, enrolled):
    today = clinic_today(app)
    body = put(client, enrolled, **{"from": today.isoformat()}).get_json()
    expected = [today + timedelta(days=n) for n in range(28) if (today + timedelta(days=n)).weekday() in (1, 3)]
    assert [(v["due_on"], v["kind"]) for v in body["upcoming_visits"]] == [(d.isoformat(), "test")
                                                                           for d in expected[:6]]


def test_the_patient_record_shows_the_new_days(app, client, enrolled):
    put(client, enrolled, **{"from": clinic_today(app).isoformat()})
    record = client.get(f"/api/v1/patients/{enrolled}", headers=headers_for(client, "cora")).get_json()
    assert (record["enrollment"]["visit_days"], record["version"]) == (["tue", "thu"], 2)


def test_a_day_before_today_is_422_on_from(app, client, enrolled):
    response = put(client, enrolled, **{"from": (clinic_today(app) - timedelta(days=1)).isoformat()})
    assert response.status_code == 422 and list(fields_of(response)) == ["from"]


def test_an_unknown_day_is_422_on_visit_days(app, client, enrolled):
    response = put(client, enrolled, visit_days=["tue", "someday"], **{"from": clinic_today(app).isoformat()})
    assert fields_of(response) == {"visit_days": "Use mon, tue, wed, thu, fri, sat or sun."}


def test_missing_fields_are_named(client, enrolled):
    response = client.put(f"/api/v1/patients/{enrolled}/visit-days", headers=headers_for(client, "cora"), json={})
    assert set(fields_of(response)) == {"visit_days", "from", "version"}


def test_a_date_in_another_form_is_422(client, enrolled):
    response = put(client, enrolled, **{"from": "21/11/2026"})
    assert fields_of(response) == {"from": "Must be a date as YYYY-MM-DD."}


def test_a_stale_version_is_409(app, client, enrolled):
    today = clinic_today(app).isoformat()
    put(client, enrolled, **{"from": today})
    stale = put(client, enrolled, visit_days=["fri"], **{"from": today})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale_version"


def test_a_counselor_of_another_caseload_gets_404(app, client, enrolled):
    response = put(client, enrolled, "otto", **{"from": clinic_today(app).isoformat()})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_a_patient_gets_404(app, client, enrolled):
    response = put(client, enrolled, "pat", **{"from": clinic_today(app).isoformat()})
    assert response.status_code == 404


def test_a_manager_may_not_change_visit_days(app, client, enrolled):
    response = put(client, enrolled, "max", **{"from": clinic_today(app).isoformat()})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_an_admin_changes_any_patients_days(app, client, enrolled):
    response = put(client, enrolled, "ada", **{"from": clinic_today(app).isoformat()})
    assert response.status_code == 200 and response.get_json()["visit_days"] == ["tue", "thu"]


def test_the_change_is_audited(app, client, enrolled):
    today = clinic_today(app).isoformat()
    put(client, enrolled, **{"from": today})
    [row] = audit_rows(app, "enrollment.visit_days", patient_id=enrolled)
    assert (row.detail["before"], row.detail["after"], row.detail["from"]) == (["mon", "wed", "fri"],
                                                                               ["tue", "thu"], today)
