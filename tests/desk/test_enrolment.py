"""Enrolment: visits on the chosen days, the portal account with a one-time password, ending an episode."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from desk.conftest import audit_actions, make_program

from helpers import api_token, sign_in

MONDAY = date(2026, 12, 7)


def _program(app):
    with app.app_context():
        return make_program("Enrolment programme")


def test_enrolling_schedules_visits_only_on_the_chosen_days(client, app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, ScheduledVisit

    program = _program(app)
    sign_in(client, "cora")
    response = client.post("/staff/patients/new", data={
        "display_name": "Nia New", "record_number": "MRN-N1", "program_id": str(program),
        "start_date": MONDAY.isoformat(), "visit_days": ["tue", "thu"]})
    assert response.status_code == 200 and "Nia New is enrolled" in response.get_data(as_text=True)
    with app.app_context():
        patient = db.session.scalar(select(Patient).where(Patient.record_number == "MRN-N1"))
        assert patient.counselor_id == personas.counselor
        assert patient.enrollments[0].visit_days == ["tue", "thu"]
        tests = db.session.scalars(select(ScheduledVisit.due_on).where(ScheduledVisit.kind == "test")).all()
        assert len(tests) == 8 and {d.weekday() for d in tests} == {1, 3}
        assert "patient.create" in audit_actions(patient.id)


def test_leaving_the_days_unticked_uses_the_programmes_days(client, app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import ScheduledVisit

    program = _program(app)
    sign_in(client, "cora")
    client.post("/staff/patients/new", data={"display_name": "Omar", "record_number": "MRN-N2",
                                             "program_id": str(program), "start_date": MONDAY.isoformat()})
    with app.app_context():
        days = {d.weekday() for d in db.session.scalars(select(ScheduledVisit.due_on))}
        assert days == {0, 2, 4}


def test_the_portal_account_gets_a_temporary_password_that_must_be_changed(client, app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    program = _program(app)
    sign_in(client, "cora")
    html = client.post("/staff/patients/new", data={
        "display_name": "Paz Portal", "record_number": "MRN-N3", "program_id": str(program),
        "start_date": MONDAY.isoformat(), "portal_username": "paz"}).get_data(as_text=True)
    password = re.search(r'id="temp-password">([^<]+)<', html).group(1)
    with app.app_context():
        account = db.session.scalar(select(User).where(User.username == "paz"))
        assert account.role == "patient" and account.must_change_password and account.patient_id is not None
    patient_client = app.test_client()
    sign_in(patient_client, "paz", password)
    assert patient_client.get("/portal/").headers["Location"].endswith("/account/password")


def test_a_taken_portal_username_refuses_the_whole_enrolment(client, app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient

    program = _program(app)
    sign_in(client, "cora")
    html = client.post("/staff/patients/new", data={
        "display_name": "Quinn", "record_number": "MRN-N4", "program_id": str(program),
        "start_date": MONDAY.isoformat(), "portal_username": "pat"}).get_data(as_text=True)
    assert "This username is taken." in html and 'value="Quinn"' in html
    with app.app_context():
        assert db.session.scalar(select(Patient).where(Patient.record_number == "MRN-N4")) is None


def test_an_admin_chooses_the_counselor(client, app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient

    program = _program(app)
    sign_in(client, "ada")
    client.post("/staff/patients/new", data={
        "display_name": "Rae", "record_number": "MRN-N5", "program_id": str(program),
        "start_date": MONDAY.isoformat(), "counselor_id": str(personas.other_counselor)})
    with app.app_context():
        assert db.session.scalar(select(Patient.counselor_id).where(Patient.record_number == "MRN-N5")) == \
            personas.other_counselor


def test_ending_an_enrollment_needs_a_reason_and_stops_later_visits_being_due(client, app, desk):
    sign_in(client, "cora")
    path = f"/staff/patients/{desk.patient}/enrollment/end"
    refused = client.post(path, data={"status": "discharged", "on": desk.today.isoformat(), "reason": ""})
    assert 'id="reason-error"' in refused.get_data(as_text=True)
    ended = client.post(path, data={"status": "discharged", "on": (desk.today - timedelta(days=2)).isoformat(),
                                    "reason": "Transferred to residential care"}, follow_redirects=True)
    assert "The enrollment is discharged as of" in ended.get_data(as_text=True)
    with app.app_context():
        from cm_tracker.extensions import db
        from cm_tracker.models import Enrollment

        enrollment = db.session.get(Enrollment, desk.enrollment)
        assert (enrollment.status, enrollment.end_on) == ("discharged", desk.today - timedelta(days=2))
        assert "enrollment.discharged" in audit_actions(desk.patient)
    dashboard = client.get("/staff/").get_data(as_text=True)
    assert "Record test<span class=\"visually-hidden\"> for Dana Desk" not in dashboard


def test_the_api_completes_an_enrollment(client, desk):
    headers = api_token(client, "cora")
    response = client.post(f"/api/v1/patients/{desk.patient}/enrollment/end", headers=headers,
                           json={"status": "completed", "on": desk.today.isoformat(), "reason": "Finished"})
    assert response.status_code == 200 and response.get_json()["status"] == "completed"
    again = client.post(f"/api/v1/patients/{desk.patient}/enrollment/end", headers=headers,
                        json={"status": "completed", "on": desk.today.isoformat(), "reason": "Finished"})
    assert again.status_code == 409


def test_the_api_refuses_an_end_before_recorded_results(client, app, desk):
    from desk.conftest import negative, patient, user

    with app.app_context():
        from cm_tracker.services.usecases.specimens import record_specimen

        record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=1)),
                        actor=user(patient(desk.patient).counselor_id))
    response = client.post(f"/api/v1/patients/{desk.patient}/enrollment/end", headers=api_token(client, "cora"),
                           json={"status": "discharged", "on": (desk.today - timedelta(days=3)).isoformat(),
                                 "reason": "x"})
    assert response.status_code == 422 and "on" in response.get_json()["error"]["fields"]
