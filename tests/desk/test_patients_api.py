"""Patients through the API: admission with its enrollment and visits, caseloads, reach and audit; searching within
reach, in pages; renaming and reassigning with a version check."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from api_support import audit_rows, fields_of, patient_body, program_body
from helpers import api_token


def _visits(app, patient_id: int) -> list[tuple[date, str, str | None]]:
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, ScheduledVisit

    with app.app_context():
        rows = db.session.execute(
            select(ScheduledVisit.due_on, ScheduledVisit.kind, ScheduledVisit.target_key)
            .join(Enrollment, Enrollment.id == ScheduledVisit.enrollment_id)
            .where(Enrollment.patient_id == patient_id).order_by(ScheduledVisit.due_on, ScheduledVisit.id))
        return [(due, kind.value, key) for due, kind, key in rows]


def test_a_counselors_new_patient_joins_their_own_caseload(client, personas):
    response = client.post("/api/v1/patients", json=patient_body(personas.program), headers=api_token(client, "cora"))
    body = response.get_json()
    assert response.status_code == 201
    assert (body["display_name"], body["record_number"], body["counselor_id"]) == (
        "Nora New", "MRN-100", personas.counselor)
    assert {k: body["enrollment"][k] for k in ("program_id", "start_date", "status")} == {
        "program_id": personas.program, "start_date": "2026-11-02", "status": "active"}


def test_a_new_enrollment_schedules_a_test_on_every_visit_day_of_the_programs_weeks(app, client, personas):
    body = patient_body(personas.program, start_date="2026-11-04")  # a Wednesday
    patient_id = client.post("/api/v1/patients", json=body, headers=api_token(client, "cora")).get_json()["id"]
    visits = _visits(app, patient_id)
    assert len(visits) == 12 * 3
    assert visits[:4] == [(date(2026, 11, 4), "test", None), (date(2026, 11, 6), "test", None),
                          (date(2026, 11, 9), "test", None), (date(2026, 11, 11), "test", None)]
    assert visits[-1] == (date(2027, 1, 25), "test", None)


def test_a_visit_plan_changes_the_visit_days_by_week_like_californias_36_tests(app, client, personas):
    admin = api_token(client, "ada")
    plan = [{"from_week": 1, "to_week": 12, "days": ["mon", "thu"]}, {"from_week": 13, "to_week": 24, "days": ["mon"]}]
    program = client.post("/api/v1/programs", json=program_body(name="California-like", weeks=24,
                                                                visit_days=["mon"], visit_plan=plan), headers=admin)
    patient_id = client.post("/api/v1/patients", json=patient_body(program.get_json()["id"]),
                             headers=admin).get_json()["id"]
    visits = _visits(app, patient_id)
    assert len(visits) == 36
    assert [v[0] for v in visits[22:26]] == [date(2027, 1, 18), date(2027, 1, 21), date(2027, 1, 25),
                                             date(2027, 2, 1)]


def test_an_attendance_target_schedules_its_own_sessions(app, client, personas):
    admin = api_token(client, "ada")
    body = program_body(name="Groups", weeks=1, visit_days=["tue"],
                        targets=[{"key": "groups", "kind": "attendance", "schedule": {"kind": "fixed", "points": 5}}])
    program_id = client.post("/api/v1/programs", json=body, headers=admin).get_json()["id"]
    patient_id = client.post("/api/v1/patients", json=patient_body(program_id), headers=admin).get_json()["id"]
    assert _visits(app, patient_id) == [(date(2026, 11, 3), "session", "groups")]


def test_the_enrollment_copies_the_programs_visit_days(client, personas):
    body = client.post("/api/v1/patients", json=patient_body(personas.program), headers=api_token(client, "cora"))
    assert body.get_json()["enrollment"]["visit_days"] == ["mon", "wed", "fri"]


def test_a_counselor_cannot_put_a_new_patient_on_another_caseload(client, personas):
    body = patient_body(personas.program, counselor_id=personas.other_counselor)
    response = client.post("/api/v1/patients", json=body, headers=api_token(client, "cora"))
    assert response.status_code == 422
    assert "own caseload" in fields_of(response)["counselor_id"]


def test_a_counselor_may_name_themselves(client, personas):
    body = patient_body(personas.program, counselor_id=personas.counselor)
    response = client.post("/api/v1/patients", json=body, headers=api_token(client, "cora"))
    assert response.get_json()["counselor_id"] == personas.counselor


def test_a_manager_assigns_a_new_patient_to_a_counselor(client, personas):
    body = patient_body(personas.program, counselor_id=personas.other_counselor)
    response = client.post("/api/v1/patients", json=body, headers=api_token(client, "max"))
    assert response.status_code == 201
    assert response.get_json()["counselor_id"] == personas.other_counselor


@pytest.mark.parametrize("who", ["manager", "patient_user", "missing"])
def test_a_patient_can_only_be_assigned_to_an_enabled_counselor(client, personas, who):
    counselor_id = getattr(personas, who, 999)
    body = patient_body(personas.program, counselor_id=counselor_id)
    response = client.post("/api/v1/patients", json=body, headers=api_token(client, "ada"))
    assert fields_of(response) == {"counselor_id": "Choose an enabled counselor."}


def test_a_disabled_counselor_cannot_take_new_patients(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    with app.app_context():
        db.session.execute(update(User).where(User.id == personas.other_counselor).values(is_disabled=True))
        db.session.commit()
    body = patient_body(personas.program, counselor_id=personas.other_counselor)
    response = client.post("/api/v1/patients", json=body, headers=api_token(client, "ada"))
    assert "counselor_id" in fields_of(response)


def test_a_record_number_in_use_answers_409_duplicate(client, personas):
    body = patient_body(personas.program, record_number="MRN-001")
    response = client.post("/api/v1/patients", json=body, headers=api_token(client, "cora"))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "duplicate"


def test_an_absent_program_is_a_field_error(client, personas):
    response = client.post("/api/v1/patients", json=patient_body(999), headers=api_token(client, "cora"))
    assert fields_of(response) == {"program_id": "There is no such program."}


def test_an_archived_program_takes_no_new_patients(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    with app.app_context():
        db.session.execute(update(Program).values(is_archived=True))
        db.session.commit()
    response = client.post("/api/v1/patients", json=patient_body(personas.program), headers=api_token(client, "cora"))
    assert fields_of(response) == {"program_id": "This program is archived; choose an active one."}


@pytest.mark.parametrize("start_date", ["2026-11-31", "02/11/2026", "2026-11-2", ""])
def test_a_malformed_start_date_is_a_field_error(client, personas, start_date):
    body = patient_body(personas.program, start_date=start_date)
    response = client.post("/api/v1/patients", json=body, headers=api_token(client, "cora"))
    assert fields_of(response) == {"start_date": "Must be a date as YYYY-MM-DD."}


def test_a_refused_patient_writes_nothing(app, client, personas):
    client.post("/api/v1/patients", json=patient_body(999), headers=api_token(client, "cora"))
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, Patient

    with app.app_context():
        assert (db.session.query(Patient).count(), db.session.query(Enrollment).count()) == (2, 2)


def test_a_patient_user_cannot_create_patients(client, personas):
    response = client.post("/api/v1/patients", json=patient_body(personas.program), headers=api_token(client, "pat"))
    assert response.status_code == 404


def test_creating_a_patient_leaves_one_audit_row_naming_the_patient(app, client, personas):
    created = client.post("/api/v1/patients", json=patient_body(personas.program), headers=api_token(client, "cora"))
    patient_id = created.get_json()["id"]
    rows = audit_rows(app, "patient.create")
    assert [(r.username, r.patient_id, r.outcome.value) for r in rows] == [("cora", patient_id, "success")]


def test_a_counselor_reads_a_patient_of_their_caseload(client, personas):
    response = client.get(f"/api/v1/patients/{personas.patient}", headers=api_token(client, "cora"))
    body = response.get_json()
    assert response.status_code == 200
    assert (body["record_number"], body["counselor_id"]) == ("MRN-001", personas.counselor)
    assert [e["program_id"] for e in body["enrollments"]] == [personas.program]
    assert body["enrollment"]["start_date"] == "2026-11-02"


def test_a_counselor_gets_404_for_another_counselors_patient(client, personas):
    response = client.get(f"/api/v1/patients/{personas.other_patient}", headers=api_token(client, "cora"))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_another_counselors_patient_and_an_absent_one_look_the_same(client, personas):
    headers = api_token(client, "cora")
    theirs = client.get(f"/api/v1/patients/{personas.other_patient}", headers=headers)
    absent = client.get("/api/v1/patients/999", headers=headers)
    assert theirs.get_json() == absent.get_json()


@pytest.mark.parametrize("username", ["max", "ada"])
def test_managers_and_admins_read_every_patient(client, personas, username):
    response = client.get(f"/api/v1/patients/{personas.other_patient}", headers=api_token(client, username))
    assert response.status_code == 200
    assert response.get_json()["record_number"] == "MRN-002"


def test_a_patient_user_gets_404_even_for_their_own_record(app, client, personas):
    response = client.get(f"/api/v1/patients/{personas.patient}", headers=api_token(client, "pat"))
    assert response.status_code == 404
    assert [r.outcome.value for r in audit_rows(app, "api.denied", username="pat")] == ["denied"]


def test_reading_a_patient_is_audited_once(app, client, personas):
    client.get(f"/api/v1/patients/{personas.patient}", headers=api_token(client, "max"))
    rows = audit_rows(app, "patient.view", patient_id=personas.patient)
    assert [(r.username, r.outcome.value) for r in rows] == [("max", "success")]


def test_a_refused_read_is_audited_as_denied(app, client, personas):
    client.get(f"/api/v1/patients/{personas.other_patient}", headers=api_token(client, "cora"))
    rows = audit_rows(app, "patient.view", patient_id=personas.other_patient)
    assert [(r.username, r.outcome.value) for r in rows] == [("cora", "denied")]


def test_a_counselor_lists_only_their_own_caseload(client, desk):
    body = client.get("/api/v1/patients", headers=api_token(client, "cora")).get_json()
    assert {p["display_name"] for p in body["patients"]} == {"Pat Patient", "Dana Desk"}
    assert body["total"] == 2 and body["next_page"] is None


def test_a_manager_searches_every_patient_by_record_number(client, desk):
    body = client.get("/api/v1/patients?q=mrn-00", headers=api_token(client, "max")).get_json()
    assert [p["record_number"] for p in body["patients"]] == ["MRN-002", "MRN-001"]


def test_the_list_comes_in_pages(client, desk):
    headers = api_token(client, "ada")
    first = client.get("/api/v1/patients?per_page=2", headers=headers).get_json()
    second = client.get("/api/v1/patients?per_page=2&page=2", headers=headers).get_json()
    assert first["total"] == 3 and first["next_page"] == 2 and len(first["patients"]) == 2
    assert len(second["patients"]) == 1 and second["next_page"] is None


def test_a_bad_page_is_422(client, desk):
    response = client.get("/api/v1/patients?per_page=0", headers=api_token(client, "cora"))
    assert response.status_code == 422 and "per_page" in response.get_json()["error"]["fields"]


def test_a_search_is_audited(client, app, desk):
    from desk.conftest import audit_actions

    client.get("/api/v1/patients?q=dana", headers=api_token(client, "cora"))
    with app.app_context():
        assert "patient.search" in audit_actions()


def test_a_counselor_renames_their_patient(client, desk):
    response = client.patch(f"/api/v1/patients/{desk.patient}", headers=api_token(client, "cora"),
                            json={"version": 1, "display_name": "Dana D."})
    assert response.status_code == 200
    assert (response.get_json()["display_name"], response.get_json()["version"]) == ("Dana D.", 2)


def test_a_stale_version_is_409(client, desk):
    headers = api_token(client, "cora")
    client.patch(f"/api/v1/patients/{desk.patient}", headers=headers, json={"version": 1, "display_name": "A"})
    stale = client.patch(f"/api/v1/patients/{desk.patient}", headers=headers, json={"version": 1,
                                                                                     "display_name": "B"})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale_version"


def test_a_counselor_cannot_move_a_patient_to_another_caseload(client, desk, personas):
    response = client.patch(f"/api/v1/patients/{desk.patient}", headers=api_token(client, "cora"),
                            json={"version": 1, "counselor_id": personas.other_counselor})
    assert response.status_code == 422 and "counselor_id" in response.get_json()["error"]["fields"]


def test_a_manager_moves_a_patient_to_another_caseload(client, desk, personas):
    response = client.patch(f"/api/v1/patients/{desk.patient}", headers=api_token(client, "max"),
                            json={"version": 1, "counselor_id": personas.other_counselor})
    assert response.get_json()["counselor_id"] == personas.other_counselor
    assert client.get(f"/api/v1/patients/{desk.patient}", headers=api_token(client, "cora")).status_code == 404
