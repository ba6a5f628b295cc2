"""A URL naming a patient's record (a specimen, a session mark, an activity, a redemption, a draw) reaches it through
permissions.get_record_for: another caseload's record is 404 with the API error body, the same answer as for an id
that names no record, so nobody learns which records exist, and nothing is changed."""

from __future__ import annotations

import pytest

from helpers import api_token
from worlds.records import Records, records_world

NOT_FOUND = {"error": {"code": "not_found", "message": "There is nothing here, or it is not yours to see."}}
MISSING = 999_999


@pytest.fixture
def others(app, personas) -> Records:
    """Records of Olive, on Otto's caseload: out of Cora's reach."""
    return records_world(app, personas.other_patient)


@pytest.fixture
def cora(client, personas) -> dict[str, str]:
    return api_token(client, "cora")


CALLS = [
    ("patch", "/api/v1/specimens/{specimen}", {"version": 1, "reason": "lab confirmation", "status": "missed"}),
    ("patch", "/api/v1/attendance/{attendance}", {"version": 1, "reason": "wrong day", "status": "unexcused"}),
    ("post", "/api/v1/activities/{activity}/evidence", {"version": 1, "evidence_note": "a letter"}),
    ("post", "/api/v1/activities/{activity}/verify", {"version": 1}),
    ("post", "/api/v1/activities/{activity}/reject", {"version": 1, "reason": "no letter"}),
    ("post", "/api/v1/redemptions/{redemption}/fulfil", {}),
    ("post", "/api/v1/redemptions/{redemption}/cancel", {}),
    ("post", "/api/v1/draws/{draw}/handover", {"reward_id": 0}),
]


def _call(client, headers, method: str, url: str, body: dict, ids: dict[str, int]):
    if "reward_id" in body:
        body = {**body, "reward_id": ids["prize"]}
    return getattr(client, method)(url.format(**ids), json=body, headers=headers)


@pytest.mark.parametrize(("method", "url", "body"), CALLS, ids=[f"{m} {u}" for m, u, _ in CALLS])
def test_a_record_of_another_caseload_is_not_found_with_the_api_error_body(client, cora, others, method, url, body):
    response = _call(client, cora, method, url, body, vars(others))
    assert response.status_code == 404
    assert response.get_json() == NOT_FOUND


@pytest.mark.parametrize(("method", "url", "body"), CALLS, ids=[f"{m} {u}" for m, u, _ in CALLS])
def test_an_unknown_record_id_gets_the_same_answer_as_one_out_of_reach(client, cora, others, method, url, body):
    ids = {name: MISSING for name in vars(others)} | {"prize": others.prize}
    response = _call(client, cora, method, url, body, ids)
    assert response.status_code == 404
    assert response.get_json() == NOT_FOUND


def test_a_refused_call_on_another_caseloads_records_changes_none_of_them(app, client, cora, others):
    from cm_tracker.extensions import db
    from cm_tracker.models import AttendanceRecord, Draw, GoalActivity, Redemption, Specimen

    for method, url, body in CALLS:
        _call(client, cora, method, url, body, vars(others))
    with app.app_context():
        assert db.session.get(Specimen, others.specimen).version == 1
        assert db.session.get(AttendanceRecord, others.attendance).version == 1
        assert db.session.get(GoalActivity, others.activity).version == 1
        assert str(db.session.get(Redemption, others.redemption).status) == "requested"
        assert db.session.get(Draw, others.draw).handed_over_at is None


def test_a_refusal_is_audited_as_a_denied_write_to_the_records_patient(app, client, cora, others, personas):
    from api_support import audit_rows

    client.patch(f"/api/v1/specimens/{others.specimen}", json={"version": 1, "reason": "x"}, headers=cora)
    denied = audit_rows(app, "patient.write_access", patient_id=personas.other_patient)
    assert [str(row.outcome) for row in denied] == ["denied"]
