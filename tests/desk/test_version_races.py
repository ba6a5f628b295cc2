"""No lost update: ten desks sending a change of one record with the version they all loaded at the same moment get
one 200 and nine 409 `stale_version`, on SQLite and PostgreSQL, whatever record it is (each use case claims the
version with core.versions.claim_version); concurrent evidence for one activity is one success and 409s, never a
500 from a duplicate row in record_versions; ten desks ending one enrolment end it once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from helpers import api_token, in_threads

DESKS = 10
ROUNDS = 3


def _race(app: Flask, headers: dict[str, str], send: Callable[..., object], body_of: Callable[[int], dict],
          ) -> list[tuple[int, dict]]:
    """DESKS requests at once through their own test clients; (status, body) of each."""

    def work(i: int) -> tuple[int, dict]:
        response = send(app.test_client(), headers, body_of(i))
        return response.status_code, response.get_json()

    outcomes = in_threads(app, DESKS, work)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    return outcomes  # type: ignore[return-value]


def _one_winner(outcomes: list[tuple[int, dict]], code: str = "stale_version") -> dict:
    """Exactly one 200; every other answer the documented 409 body (docs/api.md: code, message, no fields)."""
    assert sorted(status for status, _ in outcomes) == [200] + [409] * (DESKS - 1), outcomes
    for status, body in outcomes:
        if status == 409:
            assert set(body) == {"error"} and body["error"]["code"] == code, body
            assert body["error"]["message"] and "fields" not in body["error"]
            assert code != "stale_version" or "reload" in body["error"]["message"]
    return next(body for status, body in outcomes if status == 200)


def _count(app: Flask, model: type, *where: object) -> int:
    from cm_tracker.extensions import db

    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_ten_concurrent_patient_edits_with_one_version_have_one_winner(app, client, desk):
    from cm_tracker.models import AuditEvent

    headers = api_token(client, "cora")
    for version in range(1, ROUNDS + 1):
        won = _one_winner(_race(app, headers, lambda c, h, b: c.patch(f"/api/v1/patients/{desk.patient}",
                                                                      headers=h, json=b),
                                lambda i, v=version: {"version": v, "display_name": f"Dana {v}-{i}"}))
        assert won["version"] == version + 1
        now = client.get(f"/api/v1/patients/{desk.patient}", headers=headers).get_json()
        assert (now["version"], now["display_name"]) == (version + 1, won["display_name"])
    assert _count(app, AuditEvent, AuditEvent.action == "patient.update") == ROUNDS


def test_ten_concurrent_specimen_corrections_with_one_version_have_one_winner(app, client, desk):
    from cm_tracker.models import RecordType, RecordVersion
    from desk.conftest import moment

    headers = api_token(client, "cora")
    with app.app_context():
        when = moment(desk.today - timedelta(days=1), 10).isoformat()
    created = client.post(f"/api/v1/patients/{desk.patient}/specimens", headers=headers, json={
        "collected_at": when, "status": "final", "validity": "valid",
        "results": {"cocaine": "negative", "methamphetamine": "negative"}}).get_json()
    for version in range(1, ROUNDS + 1):
        result = "positive" if version % 2 else "negative"
        _one_winner(_race(app, headers, lambda c, h, b: c.patch(f"/api/v1/specimens/{created['id']}", headers=h,
                                                                json=b),
                          lambda i, v=version, r=result: {"version": v, "reason": f"desk {i}",
                                                          "results": {"cocaine": r, "methamphetamine": "negative"}}))
    assert _count(app, RecordVersion, RecordVersion.record_type == RecordType.SPECIMEN,
                  RecordVersion.record_id == created["id"]) == ROUNDS + 1


def test_ten_concurrent_attendance_corrections_with_one_version_have_one_winner(app, client, desk):
    from desk.conftest import moment

    headers = api_token(client, "cora")
    with app.app_context():
        when = moment(desk.today - timedelta(days=1), 11).isoformat()
    mark = client.post(f"/api/v1/patients/{desk.patient}/attendance", headers=headers, json={
        "occurred_at": when, "target": "groups",
        "status": "attended"}).get_json()
    for version in range(1, ROUNDS + 1):
        status = "excused" if version % 2 else "attended"
        _one_winner(_race(app, headers, lambda c, h, b: c.patch(f"/api/v1/attendance/{mark['id']}", headers=h,
                                                                json=b),
                          lambda i, v=version, s=status: {"version": v, "reason": f"desk {i}", "status": s}))


def test_ten_concurrent_visit_day_changes_with_one_version_have_one_winner(app, client, desk):
    headers = api_token(client, "cora")
    for version in range(1, ROUNDS + 1):
        days = ["mon", "wed", "fri"] if version % 2 else ["tue", "thu"]
        won = _one_winner(_race(app, headers, lambda c, h, b: c.put(f"/api/v1/patients/{desk.patient}/visit-days",
                                                                    headers=h, json=b),
                                lambda i, v=version, d=days: {"version": v, "visit_days": d,
                                                              "from": desk.today.isoformat()}))
        assert won["patient_version"] == version + 1


@pytest.mark.parametrize("kind", ["evidence", "verify"])
def test_concurrent_verdicts_on_one_activity_have_one_winner_and_no_500(app, client, desk, kind):
    from cm_tracker.models import RecordType, RecordVersion

    headers = api_token(client, "cora")
    activity = client.post(f"/api/v1/patients/{desk.patient}/activities", headers=headers, json={
        "target": "goals", "description": "Attend a job fair", "verification": "Stamped card"}).get_json()["id"]
    body = {"version": 1, "evidence_note": "Card stamped"} if kind == "evidence" else {"version": 1}
    won = _one_winner(_race(app, headers, lambda c, h, b: c.post(f"/api/v1/activities/{activity}/{kind}",
                                                                 headers=h, json=b), lambda _i: body))
    assert won["version"] == 2
    assert _count(app, RecordVersion, RecordVersion.record_type == RecordType.ACTIVITY,
                  RecordVersion.record_id == activity) == 2


def test_ten_desks_ending_one_enrolment_at_once_end_it_once(app, client, desk):
    from cm_tracker.models import AuditEvent

    headers = api_token(client, "cora")
    won = _one_winner(_race(app, headers, lambda c, h, b: c.post(f"/api/v1/patients/{desk.patient}/enrollment/end",
                                                                 headers=h, json=b),
                            lambda i: {"status": "completed", "on": desk.today.isoformat(), "reason": f"desk {i}"}),
                      code="already_ended")
    assert won["status"] == "completed"
    assert _count(app, AuditEvent, AuditEvent.action == "enrollment.completed") == 1
