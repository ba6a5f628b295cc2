"""PUT /api/v1/patients/{id}/visit-days for a programme that counts visits per week (California-like): the patient's
days per stretch of the plan in `visit_plan`, with the docs/api.md error bodies. The clock is A_MONDAY (Monday
2 January 2090), the day the patient starts."""

from __future__ import annotations

import pytest

from api_support import fields_of, headers_for, patient_body, program_body
from helpers import A_MONDAY

PLAN = [{"from_week": 1, "to_week": 12, "per_week": 2}, {"from_week": 13, "to_week": 24, "per_week": 1}]
TUE_FRI_THEN_FRI = [{"from_week": 1, "to_week": 12, "days": ["tue", "fri"]},
                    {"from_week": 13, "to_week": 24, "days": ["fri"]}]
pytestmark = pytest.mark.time_machine(A_MONDAY)


@pytest.fixture
def enrolled(client, personas) -> int:
    body = program_body(name="California-like", weeks=24, visit_days=["mon", "thu"], visit_plan=PLAN)
    program = client.post("/api/v1/programs", headers=headers_for(client, "max"), json=body).get_json()
    patient = patient_body(program["id"], start_date="2090-01-02")
    return client.post("/api/v1/patients", headers=headers_for(client, "cora"), json=patient).get_json()["id"]


def put(client, patient_id: int, **body):
    body = {"from": "2090-01-04", "version": 1, **body}
    return client.put(f"/api/v1/patients/{patient_id}/visit-days", headers=headers_for(client, "cora"), json=body)


def test_a_new_patient_shows_the_plans_usual_days(client, enrolled):
    record = client.get(f"/api/v1/patients/{enrolled}", headers=headers_for(client, "cora")).get_json()
    assert record["enrollment"]["visit_plan"] == [
        {"from_week": 1, "to_week": 12, "per_week": 2, "days": ["mon", "thu"]},
        {"from_week": 13, "to_week": 24, "per_week": 1, "days": ["mon"]}]


def test_the_patients_days_per_stretch_change_and_the_visits_follow(client, enrolled):
    response = put(client, enrolled, visit_plan=TUE_FRI_THEN_FRI)
    body = response.get_json()
    assert response.status_code == 200
    assert [p["days"] for p in body["visit_plan"]] == [["tue", "fri"], ["fri"]]
    assert [v["due_on"] for v in body["upcoming_visits"]] == [
        "2090-01-06", "2090-01-10", "2090-01-13", "2090-01-17", "2090-01-20", "2090-01-24"]


def test_the_wrong_number_of_days_is_422_on_the_stretch(client, enrolled):
    response = put(client, enrolled, visit_plan=[{"from_week": 1, "to_week": 12, "days": ["tue"]}])
    assert response.status_code == 422
    assert fields_of(response) == {
        "visit_plan.0.days": "In weeks 1-12 the plan has 2 visits a week: choose exactly 2 days."}


def test_neither_days_nor_plan_is_422_on_visit_days(client, enrolled):
    response = put(client, enrolled)
    assert response.status_code == 422 and list(fields_of(response)) == ["visit_days"]
