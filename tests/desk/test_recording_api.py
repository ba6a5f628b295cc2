"""Specimens, corrections, attendance, balances, ledgers and draws through the API (docs/api.md)."""

from __future__ import annotations

import pytest

from api_support import fields_of
from helpers import api_token

NEG = {"cocaine": "negative", "methamphetamine": "negative"}
POS = {"cocaine": "positive", "methamphetamine": "negative"}


def _specimen(day: int, results=NEG, **extra):
    body = {"collected_at": f"2026-11-{day:02d}T09:30:00-08:00", "status": "final", "results": results,
            "validity": "valid", "temperature_ok": True, "observed": False, "method": "poc"}
    body.update(extra)
    return body


@pytest.fixture
def counselor(client, personas):
    return api_token(client, "cora")


def _post(client, headers, patient_id, body):
    return client.post(f"/api/v1/patients/{patient_id}/specimens", json=body, headers=headers)


def test_a_negative_specimen_earns_its_award_with_an_explanation(client, personas, counselor):
    response = _post(client, counselor, personas.patient, _specimen(2))
    assert response.status_code == 201
    body = response.get_json()
    assert body["version"] == 1 and body["outcomes"] == {"stimulants": "success"}
    assert body["awards"] == [{"target": "stimulants", "points": 10, "draws": 0, "value_cents": 250,
                               "reason": body["awards"][0]["reason"],
                               "event": {"type": "specimen", "id": body["id"]}}]
    assert body["awards"][0]["reason"].startswith("Negative for cocaine and methamphetamine")


def test_the_balance_says_what_the_next_success_earns(client, personas, counselor):
    for day in (2, 4, 6):
        _post(client, counselor, personas.patient, _specimen(day))
    balance = client.get(f"/api/v1/patients/{personas.patient}/balance", headers=counselor).get_json()
    assert (balance["points"], balance["value_cents"], balance["earned_points"], balance["redeemed_points"]) == \
        (85, 2125, 85, 0)
    assert balance["cap"] == {"cap_cents": 99750, "used_cents": 2125, "remaining_cents": 97625, "window": "episode"}
    assert [(n["target"], n["points"]) for n in balance["next"]] == [("stimulants", 25)]
    assert balance["next"][0]["reset_points"] == 10


def test_sending_the_same_specimen_twice_posts_nothing_new(client, personas, counselor):
    first = _post(client, counselor, personas.patient, _specimen(2)).get_json()
    again = _post(client, counselor, personas.patient, _specimen(2))
    assert again.status_code == 201
    assert again.get_json()["id"] == first["id"] and again.get_json()["duplicate"] is True
    assert client.get(f"/api/v1/patients/{personas.patient}/balance", headers=counselor).get_json()["points"] == 10


def test_another_specimen_at_the_same_time_is_a_conflict(client, personas, counselor):
    _post(client, counselor, personas.patient, _specimen(2))
    response = _post(client, counselor, personas.patient, _specimen(2, POS))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "duplicate"


def test_a_correction_posts_adjustments_and_a_stale_version_is_refused(client, personas, counselor):
    ids = [_post(client, counselor, personas.patient, _specimen(d)).get_json()["id"] for d in (2, 4, 6)]
    response = client.patch(f"/api/v1/specimens/{ids[1]}", json={"version": 1, "reason": "lab confirmation",
                                                                  "results": POS}, headers=counselor)
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == 2 and body["outcomes"] == {"stimulants": "failure"}
    # N N N paid 10 + 15 + 60; N P N pays 10 + 0 + 10.
    assert sorted(a["points"] for a in body["adjustments"]) == [-50, -15]
    assert client.get(f"/api/v1/patients/{personas.patient}/balance", headers=counselor).get_json()["points"] == 20
    stale = client.patch(f"/api/v1/specimens/{ids[1]}", json={"version": 1, "reason": "again", "results": NEG},
                         headers=counselor)
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale_version"


def test_a_correction_needs_a_reason(client, personas, counselor):
    sid = _post(client, counselor, personas.patient, _specimen(2)).get_json()["id"]
    response = client.patch(f"/api/v1/specimens/{sid}", json={"version": 1, "results": POS}, headers=counselor)
    assert response.status_code == 422 and "reason" in fields_of(response)


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "final", "results": NEG}, "collected_at"),
    (_specimen(2, collected_at="2026-11-02T09:30:00"), "collected_at"),
    (_specimen(2, status="lost"), "status"),
    (_specimen(2, results={"cocaine": "maybe"}), "results.cocaine"),
    (_specimen(2, results={"cocaine": "negative"}), "results"),
    (_specimen(2, temperature_ok="yes"), "temperature_ok"),
    ({"collected_at": "2026-11-02T09:30:00-08:00", "status": "missed", "results": NEG}, "results"),
    (_specimen(2, collected_at="2099-01-01T00:00:00+00:00"), "collected_at"),
    (_specimen(2, collected_at="2020-01-01T00:00:00+00:00"), "collected_at"),
])
def test_bad_specimens_are_refused_field_by_field(client, personas, counselor, body, field):
    response = _post(client, counselor, personas.patient, body)
    assert response.status_code == 422
    assert field in fields_of(response)
    assert client.get(f"/api/v1/patients/{personas.patient}/ledger", headers=counselor).get_json()["entries"] == []


def test_a_missed_visit_resets_and_is_explained(client, personas, counselor):
    _post(client, counselor, personas.patient, _specimen(2))
    body = _post(client, counselor, personas.patient,
                 {"collected_at": "2026-11-04T09:30:00-08:00", "status": "missed"}).get_json()
    assert body["outcomes"] == {"stimulants": "failure"}
    assert body["awards"][0]["points"] == 0 and "missed" in body["awards"][0]["reason"].lower()


def test_the_ledger_pages_oldest_first(client, personas, counselor):
    for day in (2, 4, 6):
        _post(client, counselor, personas.patient, _specimen(day))
    url = f"/api/v1/patients/{personas.patient}/ledger"
    first = client.get(f"{url}?limit=2", headers=counselor).get_json()
    assert [e["points"] for e in first["entries"]] == [10, 15] and first["next_cursor"]
    rest = client.get(f"{url}?limit=2&cursor={first['next_cursor']}", headers=counselor).get_json()
    assert [e["points"] for e in rest["entries"]] == [60] and rest["next_cursor"] is None
    assert client.get(f"{url}?limit=0", headers=counselor).status_code == 422


def test_a_patient_reads_only_their_own_balance_and_ledger(client, personas, counselor):
    _post(client, counselor, personas.patient, _specimen(2))
    patient = api_token(client, "pat")
    assert client.get("/api/v1/me/balance", headers=patient).get_json()["points"] == 10
    assert [e["points"] for e in client.get("/api/v1/me/ledger", headers=patient).get_json()["entries"]] == [10]
    assert client.get(f"/api/v1/patients/{personas.patient}/balance", headers=patient).status_code == 404
    assert client.get("/api/v1/me/balance", headers=counselor).status_code == 403


def test_another_counselors_patient_is_out_of_reach(client, personas):
    other = api_token(client, "otto")
    assert _post(client, other, personas.patient, _specimen(2)).status_code == 404
    assert client.get(f"/api/v1/patients/{personas.patient}/ledger", headers=other).status_code == 404


def test_a_manager_reads_but_does_not_record(client, personas):
    manager = api_token(client, "max")
    assert client.get(f"/api/v1/patients/{personas.patient}/balance", headers=manager).status_code == 200
    assert _post(client, manager, personas.patient, _specimen(2)).status_code == 403


def test_attendance_needs_an_attendance_target(client, personas, counselor):
    response = client.post(f"/api/v1/patients/{personas.patient}/attendance", headers=counselor,
                           json={"occurred_at": "2026-11-02T10:00:00-08:00", "target": "group", "status": "attended"})
    assert response.status_code == 422 and "target" in fields_of(response)


def test_draws_need_credits(client, personas, counselor):
    response = client.post(f"/api/v1/patients/{personas.patient}/draws", json={"count": 1}, headers=counselor)
    assert response.status_code == 409


PRIZE_PROGRAM = {
    "name": "Fishbowl", "point_value_cents": 25, "weeks": 12, "visit_days": ["mon", "thu"], "cap_cents": 2500,
    "cap_window": "calendar_year",
    "targets": [
        {"key": "stimulants", "kind": "abstinence", "analytes": ["cocaine"],
         "schedule": {"kind": "prize_draws", "start_draws": 1, "step_draws": 1, "max_draws": 12,
                      "escalate_per": "week", "bonus_draws": 2, "bonus_analytes": ["opiates"],
                      "bowl": [{"tier": "good_job", "slips": 1, "value_cents": 0},
                               {"tier": "large", "slips": 99, "value_cents": 2000}]}},
        {"key": "group", "kind": "attendance", "schedule": {"kind": "fixed", "draws": 1}},
    ],
}


def test_prize_draws_are_earned_drawn_and_capped(client, personas, counselor, monkeypatch):
    import random

    from cm_tracker.services.usecases import draws

    monkeypatch.setattr(draws, "_system_random", random.Random(7))
    admin = api_token(client, "ada")
    program_id = client.post("/api/v1/programs", json=PRIZE_PROGRAM, headers=admin).get_json()["id"]
    patient_id = client.post("/api/v1/patients", headers=counselor, json={
        "display_name": "Fay", "record_number": "MRN-900", "program_id": program_id,
        "start_date": "2026-11-02"}).get_json()["id"]
    body = _post(client, counselor, patient_id, _specimen(2, {"cocaine": "negative", "opiates": "negative"}))
    assert [a["draws"] for a in body.get_json()["awards"]] == [3]
    attended = client.post(f"/api/v1/patients/{patient_id}/attendance", headers=counselor,
                           json={"occurred_at": "2026-11-02T11:00:00-08:00", "target": "group",
                                 "status": "attended"}).get_json()
    assert attended["outcomes"] == {"group": "success"} and attended["awards"][0]["draws"] == 1
    assert client.post(f"/api/v1/patients/{patient_id}/draws", json={"count": 5}, headers=counselor).status_code \
        == 409
    made = client.post(f"/api/v1/patients/{patient_id}/draws", json={"count": 4}, headers=counselor).get_json()
    # $25 cap: one $20 large prize fits, after that a large slip is cut to good job.
    assert sum(d["value_cents"] for d in made["draws"]) <= 2500
    assert any(d["drawn_tier"] == "large" and d["tier"] == "good_job" for d in made["draws"])
    balance = client.get(f"/api/v1/patients/{patient_id}/balance", headers=counselor).get_json()
    assert balance["draws"] == 0 and balance["cap"]["used_cents"] == sum(d["value_cents"] for d in made["draws"])
