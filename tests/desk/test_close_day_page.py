"""Closing a clinic day in the browser: a counselor closes their own caseload's day, an admin the whole clinic's."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from desk.conftest import enrol

from helpers import sign_in


def _missed(app) -> dict[str, int]:
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Specimen

    with app.app_context():
        rows = db.session.execute(select(Patient.record_number, func.count(Specimen.id))
                                  .join(Specimen, Specimen.patient_id == Patient.id)
                                  .where(Specimen.status == "missed").group_by(Patient.record_number)).all()
        return dict(rows)


def test_a_counselor_closes_only_their_own_caseloads_day(app, client, desk, personas):
    other_program = desk.program
    enrol(app, other_program, personas.other_counselor, name="Olga Other", record="MRN-O1", start=desk.start)
    yesterday = (desk.today - timedelta(days=1)).isoformat()
    sign_in(client, "cora")
    page = client.get(f"/staff/close-day?day={yesterday}").get_data(as_text=True)
    assert "Dana Desk" in page and "Olga Other" not in page
    response = client.post("/staff/close-day", data={"day": yesterday})
    assert response.status_code == 302
    assert _missed(app) == {"MRN-D1": 1}
    assert "Every visit of this day is recorded." in client.get(f"/staff/close-day?day={yesterday}").get_data(
        as_text=True)


def test_an_admin_closes_the_whole_clinics_day_and_a_second_close_changes_nothing(app, client, desk, personas):
    enrol(app, desk.program, personas.other_counselor, name="Olga Other", record="MRN-O1", start=desk.start)
    yesterday = (desk.today - timedelta(days=1)).isoformat()
    sign_in(client, "ada")
    client.post("/staff/close-day", data={"day": yesterday})
    client.post("/staff/close-day", data={"day": yesterday})
    assert _missed(app) == {"MRN-D1": 1, "MRN-O1": 1}


def test_today_cannot_be_closed(app, client, desk):
    sign_in(client, "cora")
    response = client.post("/staff/close-day", data={"day": desk.today.isoformat()})
    assert response.status_code == 200
    assert "only a finished day can be closed" in response.get_data(as_text=True)
    assert _missed(app) == {}


def test_closing_a_day_is_audited_with_its_summary(app, client, desk):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    sign_in(client, "cora")
    client.post("/staff/close-day", data={"day": (desk.today - timedelta(days=1)).isoformat()})
    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visits.close_day"))
        assert row.username == "cora" and "1 test missed" in row.detail["summary"]


def test_a_missing_day_gets_a_message_beside_the_field(client, desk):
    sign_in(client, "cora")
    response = client.post("/staff/close-day", data={"day": ""})
    assert "Choose the day to close." in response.get_data(as_text=True)


