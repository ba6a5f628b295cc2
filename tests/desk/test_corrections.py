"""Corrections: the preview shows exactly what confirming posts; stale edits are refused and keep what was typed."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from desk.conftest import audit_actions, negative, patient, user

from helpers import api_token, sign_in


def _three_negatives(desk):
    from cm_tracker.services.usecases.specimens import record_specimen

    counselor = user(patient(desk.patient).counselor_id)
    return [record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=back)),
                            actor=counselor).specimen for back in (3, 2, 1)]


def _engine_entries():
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry

    return [(e.target_key, e.points, e.draws, e.value_cents, e.reason, str(e.event_type), e.event_id)
            for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.ADJUSTMENT)
                                        .order_by(LedgerEntry.id))]


def test_the_preview_equals_what_confirming_posts(app, ctx, desk):
    from cm_tracker.models import AnalyteResult
    from cm_tracker.services.usecases.corrections import preview_specimen_correction
    from cm_tracker.services.usecases.specimens import correct_specimen

    first, _, _ = _three_negatives(desk)
    counselor = user(patient(desk.patient).counselor_id)
    changes = {"results": {"cocaine": AnalyteResult.POSITIVE, "methamphetamine": AnalyteResult.NEGATIVE}}
    preview = preview_specimen_correction(first, version=1, reason="Lab confirmation", changes=changes,
                                          actor=counselor)
    assert _engine_entries() == [] and first.version == 1  # nothing was written
    correct_specimen(first, version=1, reason="Lab confirmation", changes=changes, actor=counselor)
    posted = _engine_entries()
    assert [(a.target, a.points, a.draws, a.value_cents, a.reason, a.event_type, a.event_id)
            for a in preview.adjustments] == posted
    assert [p[1] for p in posted] == [-10, -5, -45]


def test_the_correction_page_previews_then_confirms(client, app, desk):
    with app.app_context():
        first = _three_negatives(desk)[0].id
    sign_in(client, "cora")
    path = f"/staff/patients/{desk.patient}/specimens/{first}/correct"
    html = client.get(path).get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in html or 'value="1" name="version"' in html or \
        re.search(r'name="version"[^>]*value="1"', html)
    data = {"version": "1", "reason": "Typo", "status": "final", "result_cocaine": "positive",
            "result_methamphetamine": "negative", "validity": "valid", "temperature_ok": "yes",
            "collected_on": (desk.today - timedelta(days=3)).isoformat(), "collected_time": "00:05"}
    preview = client.post(path, data={**data, "action": "preview"}).get_data(as_text=True)
    assert "Confirming posts 3 adjustments" in preview and "Confirm the correction" in preview
    with app.app_context():
        assert _engine_entries() == []
    confirmed = client.post(path, data={**data, "action": "confirm"})
    assert confirmed.status_code == 302
    with app.app_context():
        assert [p[1] for p in _engine_entries()] == [-10, -5, -45]
        assert "specimen.correct" in audit_actions(desk.patient)
    history = client.get(path).get_data(as_text=True)
    assert "Version history" in history and "Typo" in history and ">2</th>" in history


def test_a_stale_correction_is_refused_and_keeps_what_was_typed(client, app, desk):
    from cm_tracker.services.usecases.specimens import correct_specimen

    with app.app_context():
        first = _three_negatives(desk)[0]
        first_id = first.id
        correct_specimen(first, version=1, reason="Note fixed", changes={"note": "cup 2"},
                         actor=user(patient(desk.patient).counselor_id))
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{desk.patient}/specimens/{first_id}/correct", data={
        "version": "1", "reason": "My own reason", "status": "refused", "action": "confirm",
        "collected_on": (desk.today - timedelta(days=3)).isoformat(), "collected_time": "00:05"}).get_data(
        as_text=True)
    assert "changed since you loaded it (now version 2)" in html
    assert 'value="My own reason"' in html and re.search(r'value="refused"[^>]*checked|checked[^>]*value="refused"',
                                                         html)
    with app.app_context():
        assert _engine_entries() == []


def _session_mark(desk, status="attended"):
    from cm_tracker.models import AttendanceStatus
    from cm_tracker.services.usecases.attendance import record_attendance
    from desk.conftest import moment

    return record_attendance(patient(desk.patient), occurred_at=moment(desk.today - timedelta(days=1), 18),
                             target_key="groups", status=AttendanceStatus(status),
                             actor=user(patient(desk.patient).counselor_id)).record


def test_an_attendance_correction_posts_the_difference_and_keeps_both_versions(app, ctx, desk):
    from cm_tracker.models import RecordType
    from cm_tracker.services.queries.corrections import history
    from cm_tracker.services.usecases.attendance import correct_attendance
    from cm_tracker.services.usecases.corrections import preview_attendance_correction

    mark = _session_mark(desk)
    counselor = user(patient(desk.patient).counselor_id)
    args = {"version": 1, "reason": "Left after ten minutes", "changes": {"status": "unexcused"}, "actor": counselor}
    preview = preview_attendance_correction(mark, **args)
    done = correct_attendance(mark, **args)
    assert [a.points for a in preview.adjustments] == [e.points for e in done.adjustments] == [-5]
    assert [(v.version, v.reason) for v in history(RecordType.ATTENDANCE, mark.id)] == [
        (2, "Left after ten minutes"), (1, "recorded")]


def test_the_api_corrects_attendance_and_refuses_a_stale_version(client, app, desk):
    with app.app_context():
        mark_id = _session_mark(desk).id
    headers = api_token(client, "cora")
    ok = client.patch(f"/api/v1/attendance/{mark_id}", headers=headers,
                      json={"version": 1, "reason": "Was excused by the doctor", "status": "excused"})
    assert ok.status_code == 200 and ok.get_json()["version"] == 2
    assert [a["points"] for a in ok.get_json()["adjustments"]] == [-5]
    stale = client.patch(f"/api/v1/attendance/{mark_id}", headers=headers,
                         json={"version": 1, "reason": "Again", "status": "attended"})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale_version"
    no_reason = client.patch(f"/api/v1/attendance/{mark_id}", headers=headers, json={"version": 2})
    assert no_reason.status_code == 422


def test_the_attendance_correction_page_previews_and_confirms(client, app, desk):
    with app.app_context():
        mark_id = _session_mark(desk).id
    sign_in(client, "cora")
    path = f"/staff/patients/{desk.patient}/attendance/{mark_id}/correct"
    data = {"version": "1", "status": "unexcused", "reason": "Mixed up with another patient"}
    assert "Confirming posts 1 adjustment" in client.post(path, data={**data, "action": "preview"}).get_data(
        as_text=True)
    assert client.post(path, data={**data, "action": "confirm"}).status_code == 302
    assert "Mixed up with another patient" in client.get(path).get_data(as_text=True)
