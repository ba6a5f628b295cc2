"""Programme administration through the API: edits with a version check, schedule versions from a date, the
history, the presets and the most a patient can earn (docs/api.md, issue 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import api_token, coming_monday

RICHER = {"kind": "escalating", "start": 20, "step": 10}


def _specimen(client, headers, patient_id, when, result="negative"):
    body = {"collected_at": when.isoformat(), "status": "final", "validity": "valid", "temperature_ok": True,
            "results": {"cocaine": result, "methamphetamine": result}}
    response = client.post(f"/api/v1/patients/{patient_id}/specimens", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fields_of(response):
    body = response.get_json()
    assert body["error"]["code"] == "validation_failed", body
    return body["error"]["fields"]


def _today(app):
    from cm_tracker.timeutil import clinic_date, utcnow

    return clinic_date(utcnow(), app.config["CLINIC_TIMEZONE"])


def test_a_manager_edits_a_programme_and_its_version_goes_up(client, personas):
    headers = api_token(client, "max")
    response = client.patch(f"/api/v1/programs/{personas.program}", headers=headers,
                            json={"version": 1, "name": "Stimulant vouchers 2027", "cap_cents": 120000,
                                  "funding_source": "County opioid settlement", "budget_cents": 5000000})
    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["name"], body["cap_cents"], body["funding_source"], body["budget_cents"], body["version"]) == (
        "Stimulant vouchers 2027", 120000, "County opioid settlement", 5000000, 2)


def test_a_stale_programme_edit_is_a_409(client, personas):
    headers = api_token(client, "ada")
    client.patch(f"/api/v1/programs/{personas.program}", json={"version": 1, "name": "First"}, headers=headers)
    response = client.patch(f"/api/v1/programs/{personas.program}", json={"version": 1, "name": "Second"},
                            headers=headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "stale_version"


def test_bad_programme_fields_are_a_422_by_field(client, personas):
    response = client.patch(f"/api/v1/programs/{personas.program}", headers=api_token(client, "ada"),
                            json={"version": 1, "cap_cents": "lots", "visit_days": ["someday"], "targets": []})
    assert set(fields_of(response)) == {"cap_cents", "visit_days", "targets"}


def test_the_cap_of_a_programme_with_enrolments_may_not_fall(client, personas):
    response = client.patch(f"/api/v1/programs/{personas.program}", json={"version": 1, "cap_cents": 59900},
                            headers=api_token(client, "ada"))
    assert "may rise but not fall" in fields_of(response)["cap_cents"]


def test_a_counselor_may_not_edit_a_programme(client, personas):
    response = client.patch(f"/api/v1/programs/{personas.program}", json={"version": 1, "name": "Mine"},
                            headers=api_token(client, "cora"))
    assert response.status_code == 403


def test_a_schedule_version_from_tomorrow_leaves_past_awards_and_pays_the_next_success_anew(app, client, personas,
                                                                                           monkeypatch):
    from cm_tracker.timeutil import utcnow

    staff, manager = api_token(client, "cora"), api_token(client, "max")
    now = utcnow()
    for days in (3, 2, 1):
        _specimen(client, staff, personas.patient, now - timedelta(days=days))
    tomorrow = _today(app) + timedelta(days=1)

    response = client.post(f"/api/v1/programs/{personas.program}/targets/stimulants/schedules", headers=manager,
                           json={"schedule": RICHER, "effective_on": tomorrow.isoformat()})
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["version"], response.get_json()["status"]) == (2, "scheduled")

    later = now + timedelta(days=1, hours=1)
    monkeypatch.setattr("cm_tracker.services.usecases.specimens.utcnow", lambda: later)
    next_award = _specimen(client, staff, personas.patient, later)["awards"][0]["points"]
    ledger = client.get(f"/api/v1/patients/{personas.patient}/ledger", headers=staff).get_json()["entries"]
    assert [e["points"] for e in ledger] == [10, 15, 60, 50]
    assert next_award == 50


def test_a_schedule_version_in_the_past_is_a_422(app, client, personas):
    yesterday = _today(app) - timedelta(days=1)
    response = client.post(f"/api/v1/programs/{personas.program}/targets/stimulants/schedules",
                           json={"schedule": RICHER, "effective_on": yesterday.isoformat()},
                           headers=api_token(client, "ada"))
    assert "awards already given stand" in fields_of(response)["effective_on"]


def test_an_invalid_schedule_version_is_a_422_with_schedule_paths(app, client, personas):
    response = client.post(f"/api/v1/programs/{personas.program}/targets/stimulants/schedules",
                           json={"schedule": {"kind": "escalating", "start": -1, "bonus_every": 3}},
                           headers=api_token(client, "ada"))
    assert {"schedule.start", "schedule.bonus"} <= set(fields_of(response))


def test_an_unknown_target_is_a_404(client, personas):
    response = client.post(f"/api/v1/programs/{personas.program}/targets/alcohol/schedules",
                           json={"schedule": RICHER}, headers=api_token(client, "ada"))
    assert response.status_code == 404


def test_the_history_lists_every_version_newest_first_with_who_saved_it(app, client, personas):
    headers = api_token(client, "max")
    tomorrow = (_today(app) + timedelta(days=1)).isoformat()
    client.post(f"/api/v1/programs/{personas.program}/targets/stimulants/schedules", headers=headers,
                json={"schedule": RICHER, "effective_on": tomorrow})

    body = client.get(f"/api/v1/programs/{personas.program}/schedules", headers=api_token(client, "cora")).get_json()
    versions = body["targets"][0]["versions"]
    assert [(v["version"], v["status"], v["created_by"]) for v in versions] == [
        (2, "scheduled", "Max Manager"), (1, "in force", None)]
    assert versions[0]["summary"] == "20 points, +10 per success in a row"


def test_the_programme_shows_the_schedule_in_force_and_the_one_to_come(app, client, personas):
    headers = api_token(client, "max")
    tomorrow = (_today(app) + timedelta(days=1)).isoformat()
    client.post(f"/api/v1/programs/{personas.program}/targets/stimulants/schedules", headers=headers,
                json={"schedule": RICHER, "effective_on": tomorrow})

    target = client.get(f"/api/v1/programs/{personas.program}", headers=headers).get_json()["targets"][0]
    assert (target["schedule_version"], target["schedule"]["start"]) == (1, 10)
    assert target["upcoming"] == [{"version": 2, "effective_on": tomorrow, "schedule": {**RICHER,
                                   "escalate_per": "sample", "recovery_after": 0}}]


@pytest.mark.time_machine(coming_monday())  # California-like's $756 is the maximum of a Monday start
def test_the_presets_come_with_source_caveat_and_program_data(client, personas):
    body = client.get("/api/v1/presets", headers=api_token(client, "cora")).get_json()
    california = next(p for p in body["presets"] if p["name"] == "california_rip")
    assert california["source"].startswith("California DHCS Recovery Incentives Program")
    assert "not the DHCS schedule itself" in california["caveat"]
    assert california["program_data"]["visit_plan"] == [
        {"from_week": 1, "to_week": 12, "days": ["mon", "thu"]}, {"from_week": 13, "to_week": 24, "days": ["mon"]}]
    assert (california["maximum"]["cents"], california["maximum"]["fits_cap"]) == (75600, False)


def test_a_preset_posted_as_is_round_trips_its_source_and_caveat(client, personas):
    headers = api_token(client, "max")
    preset = next(p for p in client.get("/api/v1/presets", headers=headers).get_json()["presets"]
                  if p["name"] == "higgins_vouchers")
    created = client.post("/api/v1/programs", json=preset["program_data"], headers=headers).get_json()
    again = client.get(f"/api/v1/programs/{created['id']}", headers=headers).get_json()
    assert (again["source"], again["caveat"], again["preset"]) == (preset["source"], preset["caveat"],
                                                                   "higgins_vouchers")


def test_the_maximum_compares_what_a_patient_can_earn_with_the_cap(client, personas):
    body = client.get(f"/api/v1/programs/{personas.program}/maximum", headers=api_token(client, "max")).get_json()
    # 12 weeks of Mon/Wed/Fri = 36 negatives: 3,990 points, $997.50, exactly the cap.
    assert (body["visits"], body["points"], body["cents"], body["cap_cents"], body["fits_cap"]) == (
        36, 3990, 99750, 99750, True)
