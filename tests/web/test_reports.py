"""The programme overview for managers and admins."""

from __future__ import annotations

from helpers import sign_in


def test_the_manager_sees_each_programmes_figures(client, personas, history):
    sign_in(client, "max")
    html = client.get("/reports/").get_data(as_text=True)
    assert "<h1>Programme overview</h1>" in html and "Stimulant vouchers" in html
    assert "<dt>Active enrolments</dt><dd>2</dd>" in html
    assert "<dt>Specimens recorded</dt><dd>3</dd>" in html
    assert "<dt>Earned</dt><dd>$23.75" in html  # 85 + 10 points at $0.25
    assert "<dt>Redeemed</dt><dd>$8.75" in html  # 35 points
    assert "<dt>Outstanding liability</dt><dd>$15.00" in html  # 60 points still held
    assert "<dt>Prize draws waiting</dt><dd>2</dd>" in html
    assert "cap $997.50 per enrolment" in html


def test_the_overview_counts_completed_and_discharged_enrolments(client, app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, EnrollmentStatus

    with app.app_context():
        enrolment = db.session.query(Enrollment).filter_by(patient_id=personas.other_patient).one()
        enrolment.status = EnrollmentStatus.DISCHARGED
        db.session.commit()
    sign_in(client, "max")
    html = client.get("/reports/").get_data(as_text=True)
    assert "<dt>Active enrolments</dt><dd>1</dd>" in html and "<dt>Discharged</dt><dd>1</dd>" in html


def test_an_admin_may_see_the_overview(client, personas):
    sign_in(client, "ada")
    assert client.get("/reports/").status_code == 200


def test_a_counselor_gets_403_on_the_overview(client, personas):
    sign_in(client, "cora")
    assert client.get("/reports/").status_code == 403


def test_the_overview_without_programmes_says_so(client, app):
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        accounts.create_user(username="max", password="a long pass phrase", role="manager", display_name="Max")
    sign_in(client, "max", "a long pass phrase")
    assert "There are no programmes yet" in client.get("/reports/").get_data(as_text=True)
