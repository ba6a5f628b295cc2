"""Programmes through the API: created by admins and managers, read by all staff, validated field by field; edits
with a version check, schedule versions from a date, the history, the presets and the most a patient can earn
(docs/api.md, issue 4)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api_support import ESCALATING, PROGRAM, audit_rows, fields_of, program_body
from helpers import A_MONDAY, api_token

PRIZE_DRAWS = {
    "kind": "prize_draws", "start_draws": 1, "step_draws": 1, "max_draws": 12, "escalate_per": "week",
    "bowl": [{"tier": "good_job", "slips": 250, "value_cents": 0}, {"tier": "small", "slips": 209, "value_cents": 100},
             {"tier": "large", "slips": 40, "value_cents": 2000}, {"tier": "jumbo", "slips": 1, "value_cents": 10000}],
}


def test_a_manager_creates_a_program_and_gets_it_back_in_full(client, personas):
    response = client.post("/api/v1/programs", json=program_body(max_award_cents=1500, dilute_policy="neutral"),
                           headers=api_token(client, "max"))
    body = response.get_json()
    assert response.status_code == 201
    assert {k: body[k] for k in ("name", "point_value_cents", "weeks", "visit_days", "cap_cents", "cap_window",
                                 "max_award_cents", "dilute_policy", "is_archived")} == {
        "name": "Cocaine vouchers 12 weeks", "point_value_cents": 25, "weeks": 12,
        "visit_days": ["mon", "wed", "fri"], "cap_cents": 99750, "cap_window": "episode", "max_award_cents": 1500,
        "dilute_policy": "neutral", "is_archived": False}
    target = body["targets"][0]
    assert (target["key"], target["kind"], target["label"], target["analytes"]) == (
        "cocaine", "abstinence", "cocaine", ["cocaine"])
    assert target["schedule"] == {**ESCALATING, "escalate_per": "sample", "recovery_after": 0}
    assert target["schedule_version"] == 1


def test_the_dilute_policy_defaults_to_failure(client, personas):
    response = client.post("/api/v1/programs", json=program_body(), headers=api_token(client, "ada"))
    assert response.get_json()["dilute_policy"] == "failure"


def test_each_target_schedule_becomes_version_one_in_force_from_today_at_the_clinic(app, client, personas):
    from cm_tracker.timeutil import clinic_date, utcnow

    response = client.post("/api/v1/programs", json=program_body(), headers=api_token(client, "ada"))
    today = clinic_date(utcnow(), app.config["CLINIC_TIMEZONE"])
    assert response.get_json()["targets"][0]["effective_on"] == today.isoformat()


def test_a_given_effective_date_is_stored_on_the_schedule_version(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import ProgramTarget

    body = program_body(effective_on="2026-12-01")
    program_id = client.post("/api/v1/programs", json=body, headers=api_token(client, "ada")).get_json()["id"]
    with app.app_context():
        target = db.session.query(ProgramTarget).filter_by(program_id=program_id).one()
        versions = [(v.version, v.effective_on) for v in target.schedule_versions]
    assert versions == [(1, date(2026, 12, 1))]


def test_a_program_keeps_its_optional_descriptions(client, personas):
    body = program_body(description="Stimulant CM, 12 weeks", funding_source="SAMHSA grant", budget_cents=500000,
                        visit_plan=[{"from_week": 1, "to_week": 6, "days": ["mon", "thu"]}])
    body["targets"] = [{**PROGRAM["targets"][0], "label": "Cocaine-free urine"},
                       {"key": "groups", "kind": "attendance", "schedule": {"kind": "fixed", "draws": 1}},
                       {"key": "prizes", "kind": "abstinence", "analytes": ["opiates", "6-mam"],
                        "schedule": PRIZE_DRAWS}]
    created = client.post("/api/v1/programs", json=body, headers=api_token(client, "ada")).get_json()
    assert (created["description"], created["funding_source"], created["budget_cents"]) == (
        "Stimulant CM, 12 weeks", "SAMHSA grant", 500000)
    assert created["visit_plan"] == [{"from_week": 1, "to_week": 6, "per_week": 2, "days": ["mon", "thu"]}]
    assert [(t["key"], t["label"], t["analytes"]) for t in created["targets"]] == [
        ("cocaine", "Cocaine-free urine", ["cocaine"]), ("groups", "groups", []), ("prizes", "prizes",
                                                                                   ["6-mam", "opiates"])]


def test_creating_a_program_leaves_one_audit_row(app, client, personas):
    program_id = client.post("/api/v1/programs", json=program_body(), headers=api_token(client, "max")).get_json()["id"]
    rows = audit_rows(app, "program.create")
    assert [(r.username, r.object_id, r.outcome.value) for r in rows] == [("max", str(program_id), "success")]


def test_a_program_name_in_use_answers_409_duplicate(client, personas):
    response = client.post("/api/v1/programs", json=program_body(name="Stimulant vouchers"),
                           headers=api_token(client, "ada"))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "duplicate"


def _target(**changes: object) -> dict[str, object]:
    return {**PROGRAM["targets"][0], **changes}


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": "  "}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"point_value_cents": 0}, "point_value_cents"),
    ({"point_value_cents": "25"}, "point_value_cents"),
    ({"point_value_cents": True}, "point_value_cents"),
    ({"weeks": 0}, "weeks"),
    ({"weeks": 105}, "weeks"),
    ({"visit_days": []}, "visit_days"),
    ({"visit_days": ["mon", "mon"]}, "visit_days"),
    ({"visit_days": ["monday"]}, "visit_days"),
    ({"cap_cents": -1}, "cap_cents"),
    ({"cap_window": "forever"}, "cap_window"),
    ({"max_award_cents": 0}, "max_award_cents"),
    ({"dilute_policy": "ignore"}, "dilute_policy"),
    ({"targets": []}, "targets"),
    ({"targets": [_target(), _target()]}, "targets.1.key"),
    ({"targets": [_target(key="Cocaine")]}, "targets.0.key"),
    ({"targets": [_target(key="x" * 41)]}, "targets.0.key"),
    ({"targets": [_target(kind="sobriety")]}, "targets.0.kind"),
    ({"targets": [_target(analytes=[])]}, "targets.0.analytes"),
    ({"targets": [_target(analytes=["Cocaine"])]}, "targets.0.analytes.0"),
    ({"targets": [_target(schedule={**ESCALATING, "start": 0})]}, "targets.0.schedule.start"),
    ({"targets": [_target(schedule={**ESCALATING, "start": "10"})]}, "targets.0.schedule.start"),
    ({"targets": [_target(schedule={"kind": "lottery"})]}, "targets.0.schedule.kind"),
    ({"targets": [_target(schedule={**PRIZE_DRAWS, "bowl": []})]}, "targets.0.schedule.bowl"),
    ({"targets": [{"key": "groups", "kind": "attendance", "analytes": ["thc"],
                   "schedule": ESCALATING}]}, "targets.0.analytes"),
    ({"visit_plan": [{"from_week": 3, "to_week": 2, "days": ["mon"]}]}, "visit_plan.0.to_week"),
    ({"visit_plan": [{"from_week": 1, "to_week": 13, "days": ["mon"]}]}, "visit_plan.0.to_week"),
    ({"visit_plan": [{"from_week": 1, "to_week": 4, "days": ["mon"]},
                     {"from_week": 4, "to_week": 8, "days": ["tue"]}]}, "visit_plan.1.from_week"),
    ({"visit_plan": [{"from_week": 1, "to_week": 4, "days": []}]}, "visit_plan.0.days"),
    ({"visit_plan": [{"from_week": 1, "to_week": 4}]}, "visit_plan.0.per_week"),
    ({"visit_plan": [{"from_week": 1, "to_week": 4, "per_week": 8}]}, "visit_plan.0.per_week"),
    ({"visit_plan": [{"from_week": 1, "to_week": 4, "per_week": 2, "days": ["mon"]}]}, "visit_plan.0.days"),
    ({"effective_on": "2026-13-01"}, "effective_on"),
    ({"colour": "blue"}, "colour"),
])
def test_an_invalid_program_is_refused_with_the_dotted_field_name(client, personas, changes, field):
    response = client.post("/api/v1/programs", json=program_body(**changes), headers=api_token(client, "ada"))
    assert response.status_code == 422
    assert field in fields_of(response)


def test_every_problem_is_reported_at_once(client, personas):
    body = program_body(weeks=0, cap_window="never", targets=[_target(schedule={**ESCALATING, "step": -1})])
    fields = fields_of(client.post("/api/v1/programs", json=body, headers=api_token(client, "ada")))
    assert {"weeks", "cap_window", "targets.0.schedule.step"} <= set(fields)


def test_a_refused_program_writes_nothing(app, client, personas):
    client.post("/api/v1/programs", json=program_body(weeks=0), headers=api_token(client, "ada"))
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    with app.app_context():
        assert db.session.query(Program).count() == 1
    assert audit_rows(app, "program.create") == []


@pytest.mark.parametrize(("username", "status"), [("cora", 403), ("pat", 404)])
def test_counselors_and_patients_cannot_create_programs(app, client, personas, username, status):
    response = client.post("/api/v1/programs", json=program_body(), headers=api_token(client, username))
    assert response.status_code == status
    assert [r.outcome.value for r in audit_rows(app, "api.denied", username=username)] == ["denied"]


@pytest.mark.parametrize("username", ["ada", "max", "cora"])
def test_all_staff_read_the_programs(client, personas, username):
    headers = api_token(client, username)
    listed = client.get("/api/v1/programs", headers=headers).get_json()["programs"]
    single = client.get(f"/api/v1/programs/{personas.program}", headers=headers).get_json()
    assert [p["id"] for p in listed] == [personas.program]
    assert single["name"] == "Stimulant vouchers"
    assert single["targets"][0]["analytes"] == ["cocaine", "methamphetamine"]


def test_a_patient_gets_404_on_programs(client, personas):
    response = client.get(f"/api/v1/programs/{personas.program}", headers=api_token(client, "pat"))
    assert response.status_code == 404


def test_an_absent_program_answers_404(client, personas):
    response = client.get("/api/v1/programs/999", headers=api_token(client, "max"))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


RICHER = {"kind": "escalating", "start": 20, "step": 10}


def _specimen(client, headers, patient_id, when, result="negative"):
    body = {"collected_at": when.isoformat(), "status": "final", "validity": "valid", "temperature_ok": True,
            "results": {"cocaine": result, "methamphetamine": result}}
    response = client.post(f"/api/v1/patients/{patient_id}/specimens", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


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


@pytest.mark.time_machine(A_MONDAY)  # California-like's $756 is the maximum of a Monday start
def test_the_presets_come_with_source_caveat_and_program_data(client, personas):
    body = client.get("/api/v1/presets", headers=api_token(client, "cora")).get_json()
    california = next(p for p in body["presets"] if p["name"] == "california_rip")
    assert california["source"].startswith("California DHCS Recovery Incentives Program")
    assert "not the DHCS schedule itself" in california["caveat"]
    assert california["program_data"]["visit_plan"] == [
        {"from_week": 1, "to_week": 12, "per_week": 2, "days": ["mon", "thu"]},
        {"from_week": 13, "to_week": 24, "per_week": 1, "days": ["mon"]}]
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
