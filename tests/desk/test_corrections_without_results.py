"""Issue 12, item 1: a final result can be corrected to any status. A status without results (missed, excused,
refused) clears the results, in the service, the API and the correction page, and the history is re-evaluated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from desk.conftest import negative, patient, user

from api_support import fields_of
from helpers import api_token, sign_in

# Three negatives earn 10, 15 and 20 + a 40 bonus (escalating 10 + 5, a bonus every third). Correcting the second
# takes its 15; missed and refused are failures, so the third restarts the run (10: -50); excused is neutral, so the
# third is the second of the run (15, no bonus: -45).
ADJUSTMENTS = {"missed": [-15, -50], "refused": [-15, -50], "excused": [-15, -45]}


def _three_negatives(desk):
    from cm_tracker.services.usecases.specimens import record_specimen

    counselor = user(patient(desk.patient).counselor_id)
    return [record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=back)),
                            actor=counselor).specimen.id for back in (3, 2, 1)]


def _adjustments() -> list[tuple[int, int | None]]:
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry

    return [(e.points, e.event_id) for e in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == EntryKind.ADJUSTMENT).order_by(LedgerEntry.id))]


def _stored(specimen_id: int) -> tuple[str, dict[str, str], int, dict[str, str], str]:
    """The specimen's status and results, and its latest record_versions row (version, results, status)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import RecordType, RecordVersion, Specimen

    db.session.expire_all()
    specimen = db.session.get(Specimen, specimen_id)
    row = db.session.scalars(select(RecordVersion).where(
        RecordVersion.record_type == RecordType.SPECIMEN, RecordVersion.record_id == specimen_id)
        .order_by(RecordVersion.version.desc())).first()
    return (str(specimen.status), {r.analyte: str(r.result) for r in specimen.results}, row.version,
            row.data["results"], row.data["status"])


@pytest.mark.parametrize("status", ["missed", "excused", "refused"])
@pytest.mark.parametrize("body", [{}, {"results": {}}], ids=["no-results", "empty-results"])
def test_the_api_corrects_a_final_result_to_a_status_without_results(client, app, desk, status, body):
    with app.app_context():
        _, second, _ = _three_negatives(desk)
    response = client.patch(f"/api/v1/specimens/{second}", headers=api_token(client, "cora"),
                            json={"version": 1, "reason": "Cup was never given", "status": status, **body})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["version"] == 2
    assert response.get_json()["outcomes"] == {"stimulants": "neutral" if status == "excused" else "failure"}
    assert [a["points"] for a in response.get_json()["adjustments"]] == ADJUSTMENTS[status]
    with app.app_context():
        assert _stored(second) == (status, {}, 2, {}, status)
        assert [points for points, _ in _adjustments()] == ADJUSTMENTS[status]


def test_a_negative_corrected_to_missed_resets_the_streak_in_the_service(app, ctx, desk):
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen, SpecimenStatus
    from cm_tracker.services.usecases.specimens import correct_specimen

    _, second, third = _three_negatives(desk)
    done = correct_specimen(db.session.get(Specimen, second), version=1, reason="Not given",
                            changes={"status": SpecimenStatus.MISSED}, actor=user(patient(desk.patient).counselor_id))
    assert done.outcomes == {"stimulants": "failure"}
    # The first keeps its 10; the missed one loses its 15; the third restarts the run (10 instead of 20 + 40).
    assert _adjustments() == [(-15, second), (-50, third)]
    assert _stored(second) == ("missed", {}, 2, {}, "missed")


def test_the_desk_form_records_missed_with_stale_result_radios_and_drops_them(client, app, desk):
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{desk.patient}/specimens/new", data={
        "status": "missed", "result_cocaine": "negative", "result_methamphetamine": "positive",
        "collected_on": (desk.today - timedelta(days=1)).isoformat(), "collected_time": "12:00"})
    assert response.status_code == 302, response.get_data(as_text=True)
    specimen_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        status, results, version, stored, _ = _stored(specimen_id)
        assert (status, results, version, stored) == ("missed", {}, 1, {})


def test_the_api_still_refuses_results_it_is_sent_with_a_status_without_results(client, app, desk):
    with app.app_context():
        _, second, _ = _three_negatives(desk)
    response = client.patch(f"/api/v1/specimens/{second}", headers=api_token(client, "cora"), json={
        "version": 1, "reason": "Not given", "status": "missed", "results": {"cocaine": "negative"}})
    assert response.status_code == 422 and "results" in fields_of(response)
    with app.app_context():
        assert _stored(second) == ("final", {"cocaine": "negative", "methamphetamine": "negative"}, 1,
                                   {"cocaine": "negative", "methamphetamine": "negative"}, "final")
        assert _adjustments() == []


@pytest.mark.parametrize("stale_radios", [False, True], ids=["no-results", "stale-result-radios"])
def test_the_correction_page_corrects_a_final_result_to_missed(client, app, desk, stale_radios):
    with app.app_context():
        _, second, _ = _three_negatives(desk)
    sign_in(client, "cora")
    path = f"/staff/patients/{desk.patient}/specimens/{second}/correct"
    form = {"version": "1", "reason": "Cup was never given", "status": "missed", "validity": "valid",
            "temperature_ok": "yes", "collected_on": (desk.today - timedelta(days=2)).isoformat(),
            "collected_time": "00:05"}
    if stale_radios:  # what a browser without JavaScript posts: the result radios cannot be cleared
        form |= {"result_cocaine": "negative", "result_methamphetamine": "negative"}
    preview = client.post(path, data={**form, "action": "preview"}).get_data(as_text=True)
    assert "Confirming posts 2 adjustments" in preview and "This was not saved" not in preview
    assert client.post(path, data={**form, "action": "confirm"}).status_code == 302
    with app.app_context():
        assert _stored(second) == ("missed", {}, 2, {}, "missed")
        assert [points for points, _ in _adjustments()] == ADJUSTMENTS["missed"]


def test_the_status_group_names_the_statuses_without_results_for_the_page_script(client, app, desk):
    with app.app_context():
        first, *_ = _three_negatives(desk)
    sign_in(client, "cora")
    for path in (f"/staff/patients/{desk.patient}/specimens/{first}/correct",
                 f"/staff/patients/{desk.patient}/specimens/new"):
        html = client.get(path).get_data(as_text=True)
        assert 'data-no-results="excused missed refused"' in html and 'id="results" data-results' in html, path
