"""Accessions at the desk (docs/api.md "Lab results"): the number a cup carries to the lab, taken by the API and the
desk form, shown on the patient record, unique per patient; a cup sent to the lab is pending with an accession."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desk.conftest import visit_on

from helpers import api_token, sign_in

PENDING = {"collected_at": "2026-11-04T09:30:00-08:00", "status": "pending", "method": "lab"}
FINAL = {"collected_at": "2026-11-06T09:30:00-08:00", "status": "final", "validity": "valid",
         "results": {"cocaine": "negative", "methamphetamine": "negative"}}
SOON_AFTER = pytest.mark.time_machine("2026-11-20T18:00:00Z")


def _post(client, headers, patient_id, body):
    return client.post(f"/api/v1/patients/{patient_id}/specimens", json=body, headers=headers)


def _stored(app, specimen_id):
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    with app.app_context():
        return db.session.get(Specimen, specimen_id).accession


@SOON_AFTER
def test_a_cup_sent_to_the_lab_is_pending_with_its_accession_trimmed(client, app, personas):
    response = _post(client, api_token(client, "cora"), personas.patient, {**PENDING, "accession": "  ACC-1001 "})
    assert response.status_code == 201
    body = response.get_json()
    assert body["accession"] == "ACC-1001" and body["outcomes"] == {"stimulants": "neutral"}
    assert [(a["points"], a["draws"]) for a in body["awards"]] == [(0, 0)]  # "Result pending: no points"
    assert _stored(app, body["id"]) == "ACC-1001"


@SOON_AFTER
def test_a_specimen_without_an_accession_answers_null(client, personas):
    body = _post(client, api_token(client, "cora"), personas.patient, FINAL).get_json()
    assert body["accession"] is None and body["outcomes"] == {"stimulants": "success"}


@SOON_AFTER
def test_a_second_specimen_with_the_same_accession_is_refused_by_field(client, app, personas):
    headers = api_token(client, "cora")
    _post(client, headers, personas.patient, {**PENDING, "accession": "ACC-1001"})
    response = _post(client, headers, personas.patient, {**FINAL, "accession": "ACC-1001"})
    assert response.status_code in (409, 422)
    assert "ACC-1001" in response.get_json()["error"]["fields"]["accession"]
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    with app.app_context():
        assert db.session.scalars(select(Specimen.accession)).all() == ["ACC-1001"]


@SOON_AFTER
def test_another_patient_may_carry_the_same_accession(client, personas):
    first = _post(client, api_token(client, "cora"), personas.patient, {**PENDING, "accession": "ACC-7"})
    second = _post(client, api_token(client, "otto"), personas.other_patient, {**PENDING, "accession": "ACC-7"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.get_json()["accession"] == "ACC-7"


@SOON_AFTER
@pytest.mark.parametrize(("value", "why"), [
    ("", "besides spaces"), ("   ", "besides spaces"), ("A" * 65, "at most 64"), ("ACC\n1", "control characters"),
    (12, "a string")])
def test_an_unusable_accession_is_refused_with_422(client, personas, value, why):
    response = _post(client, api_token(client, "cora"), personas.patient, {**PENDING, "accession": value})
    assert response.status_code == 422
    assert why in response.get_json()["error"]["fields"]["accession"]


@SOON_AFTER
def test_a_correction_may_change_the_accession(client, app, personas):
    headers = api_token(client, "cora")
    first = _post(client, headers, personas.patient, {**PENDING, "accession": "ACC-1"}).get_json()
    response = client.patch(f"/api/v1/specimens/{first['id']}", headers=headers,
                            json={"version": 1, "reason": "label misread", "accession": "ACC-2"})
    assert response.status_code == 200
    assert response.get_json()["accession"] == "ACC-2" and response.get_json()["version"] == 2
    assert _stored(app, first["id"]) == "ACC-2"


@SOON_AFTER
def test_a_correction_to_an_accession_of_another_specimen_is_refused(client, personas):
    headers = api_token(client, "cora")
    _post(client, headers, personas.patient, {**PENDING, "accession": "ACC-1"})
    other = _post(client, headers, personas.patient, FINAL).get_json()
    response = client.patch(f"/api/v1/specimens/{other['id']}", headers=headers,
                            json={"version": 1, "reason": "label", "accession": "ACC-1"})
    assert response.status_code in (409, 422) and "accession" in response.get_json()["error"]["fields"]


def _pending_form(day, **changes):
    return {"status": "pending", "method": "lab", "collected_on": day.isoformat(), "collected_time": "00:05",
            **changes}


def test_the_desk_form_offers_the_accession_with_its_hint(client, desk, app):
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{desk.patient}/specimens/new").get_data(as_text=True)
    assert "Accession / requisition number" in html and 'name="accession"' in html
    assert "the number on the cup&#39;s lab label, when it goes to the lab" in html.lower()


def test_the_desk_records_a_cup_sent_to_the_lab_and_the_record_shows_its_accession(client, desk, app):
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen, SpecimenStatus

    sign_in(client, "cora")
    with app.app_context():
        visit = visit_on(desk.enrollment, desk.today)
    response = client.post(f"/staff/patients/{desk.patient}/visits/{visit}/record",
                           data=_pending_form(desk.today, accession=" REQ-55 "))
    assert response.status_code == 302
    with app.app_context():
        specimen = db.session.scalar(select(Specimen))
        assert (specimen.status, specimen.accession) == (SpecimenStatus.PENDING, "REQ-55")
    html = client.get(f"/staff/patients/{desk.patient}").get_data(as_text=True)
    assert "accession REQ-55" in html


def test_a_duplicate_accession_at_the_desk_is_shown_beside_the_field_with_what_was_typed(client, desk, app):
    sign_in(client, "cora")
    yesterday = desk.today.fromordinal(desk.today.toordinal() - 1)
    url = f"/staff/patients/{desk.patient}/specimens/new"
    assert client.post(url, data=_pending_form(yesterday, accession="REQ-55")).status_code == 302
    response = client.post(url, data=_pending_form(desk.today, accession="REQ-55", note="second cup"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="accession-error"' in html and "REQ-55 is already on another specimen" in html
    assert 'value="REQ-55"' in html and "second cup" in html
    assert '<details class="more" id="more" open>' in html


def test_the_correction_form_shows_and_changes_the_accession(client, desk, app):
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    sign_in(client, "cora")
    url = f"/staff/patients/{desk.patient}/specimens/new"
    client.post(url, data=_pending_form(desk.today, accession="REQ-1"))
    with app.app_context():
        specimen_id = db.session.scalar(select(Specimen.id))
    page = f"/staff/patients/{desk.patient}/specimens/{specimen_id}/correct"
    assert 'value="REQ-1"' in client.get(page).get_data(as_text=True)
    response = client.post(page, data={**_pending_form(desk.today, accession="REQ-2"), "version": 1,
                                       "reason": "label misread", "action": "confirm"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Specimen, specimen_id).accession == "REQ-2"
