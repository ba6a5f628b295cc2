"""Programmes through the API: created by admins and managers, read by all staff, validated field by field."""

from __future__ import annotations

from datetime import date

import pytest

from api_support import ESCALATING, PROGRAM, audit_rows, fields_of, program_body
from helpers import api_token

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
    assert created["visit_plan"] == [{"from_week": 1, "to_week": 6, "days": ["mon", "thu"]}]
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
