"""Patients in the API: searching within reach, in pages; renaming and reassigning with a version check."""

from __future__ import annotations

from helpers import api_token


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
