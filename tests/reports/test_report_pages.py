"""Report pages (the programme overview, outcomes, fidelity and budget), the API and the exports: who reaches them,
what they say, and that CSV streams."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from reports.report_helpers import csv_rows

from helpers import api_token, sign_in

API_FIELDS = ["enrollments", "percent_negative_submitted", "percent_negative_itt", "lda_samples_mean",
              "lda_weeks_mean", "retention_weeks_mean", "attendance_rate", "earned_cents", "redeemed_cents",
              "outstanding_cents"]


@pytest.fixture
def recorded(app, personas):
    """Pat: N, N, P on 2, 4 and 6 November 2026 through the real service (25 points)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AnalyteResult, Patient, SpecimenStatus, User, Validity
    from cm_tracker.services.usecases.specimens import SpecimenInput, record_specimen

    with app.app_context():
        patient, cora = db.session.get(Patient, personas.patient), db.session.get(User, personas.counselor)
        for day, result in ((2, "negative"), (4, "negative"), (6, "positive")):
            record_specimen(patient, SpecimenInput(
                collected_at=datetime(2026, 11, day, 17, tzinfo=UTC), status=SpecimenStatus.FINAL,
                results={"cocaine": AnalyteResult(result), "methamphetamine": AnalyteResult.NEGATIVE},
                validity=Validity.VALID, temperature_ok=True), actor=cora)
    return personas


def test_the_api_answers_with_the_fields_of_the_contract(client, recorded):
    body = client.get(f"/api/v1/reports/outcomes?program_id={recorded.program}",
                      headers=api_token(client, "max")).get_json()
    assert sorted(body) == sorted([*API_FIELDS, "patients"])
    assert sorted(body["patients"][0]) == sorted(["patient_id", *API_FIELDS])
    assert (body["enrollments"], body["percent_negative_submitted"], body["earned_cents"]) == (2, 66.7, 625)
    mine = next(p for p in body["patients"] if p["patient_id"] == recorded.patient)
    assert (mine["lda_samples_mean"], mine["outstanding_cents"]) == (2.0, 625)


def test_the_api_csv_is_the_same_table_one_row_per_patient(client, recorded):
    response = client.get(f"/api/v1/reports/outcomes.csv?program_id={recorded.program}",
                          headers=api_token(client, "ada"))
    rows = list(csv.reader(io.StringIO(csv_rows(response.get_data(as_text=True), notice=True))))
    assert response.mimetype == "text/csv" and rows[0] == ["patient_id", *API_FIELDS]
    assert len(rows) == 3


@pytest.mark.parametrize(("username", "status"), [("cora", 403), ("pat", 404)])
def test_the_api_refuses_counselors_and_hides_from_patients(client, recorded, username, status):
    response = client.get(f"/api/v1/reports/outcomes?program_id={recorded.program}",
                          headers=api_token(client, username))
    assert response.status_code == status


def test_the_api_refuses_a_malformed_period_with_422(client, recorded):
    response = client.get(f"/api/v1/reports/outcomes?program_id={recorded.program}&from=yesterday",
                          headers=api_token(client, "max"))
    assert response.status_code == 422 and "from" in response.get_json()["error"]["fields"]


def test_the_api_answers_404_for_a_programme_that_does_not_exist(client, recorded):
    response = client.get("/api/v1/reports/outcomes?program_id=999", headers=api_token(client, "max"))
    assert response.status_code == 404


def test_the_outcomes_page_shows_the_pooled_figures_and_each_patient(client, recorded):
    sign_in(client, "max")
    html = client.get(f"/reports/outcomes?program_id={recorded.program}").get_data(as_text=True)
    assert "<h1>Outcomes</h1>" in html and "Pat Patient" in html and "Olive Other" in html
    assert "<dt>Negative, of samples submitted</dt><dd>66.7%" in html
    assert 'role="img"' in html and "Percent negative by week" in html


@pytest.mark.parametrize("page", ["outcomes", "fidelity", "budget"])
def test_each_report_page_is_audited(client, app, recorded, page):
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    sign_in(client, "max")
    assert client.get(f"/reports/{page}?program_id={recorded.program}").status_code == 200
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report.view"))
        assert (event.object_id, event.username) == (page, "max")


def test_a_period_that_ends_before_it_starts_is_refused_beside_the_field(client, recorded):
    sign_in(client, "max")
    response = client.get(f"/reports/outcomes?program_id={recorded.program}&date_from=2026-11-10&date_to=2026-11-01")
    assert response.status_code == 422
    assert "The end must be on or after the start." in response.get_data(as_text=True)


def test_the_budget_page_shows_the_liability_and_the_forecast(client, recorded):
    sign_in(client, "ada")
    html = client.get(f"/reports/budget?program_id={recorded.program}").get_data(as_text=True)
    assert "<dt>Outstanding liability</dt><dd>$6.25" in html and "Forecast to the programme" in html


def test_the_fidelity_page_counts_resets_and_unrecorded_visits(client, app, recorded):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, ScheduledVisit, VisitKind

    with app.app_context():
        enrollment = db.session.query(Enrollment).filter_by(patient_id=recorded.patient).one()
        db.session.add(ScheduledVisit(enrollment_id=enrollment.id, due_on=date(2026, 11, 9), kind=VisitKind.TEST))
        db.session.commit()
    sign_in(client, "max")
    html = client.get(f"/reports/fidelity?program_id={recorded.program}").get_data(as_text=True)
    assert "<dt>Resets applied</dt><dd>1" in html
    assert 'Visits left unrecorded <span class="count">1</span>' in html and "Mon 09 Nov 2026" in html


def test_a_table_export_streams_csv_as_an_attachment(client, recorded):
    sign_in(client, "max")
    response = client.get(f"/reports/outcomes/patients.csv?program_id={recorded.program}")
    assert response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="stimulant-vouchers-outcomes')
    rows = list(csv.DictReader(io.StringIO(csv_rows(response.get_data(as_text=True), notice=True))))
    assert [r["name"] for r in rows] == ["Olive Other", "Pat Patient"] and rows[1]["earned_usd"] == "6.25"


def test_an_unknown_table_is_404(client, recorded):
    sign_in(client, "max")
    assert client.get(f"/reports/budget/secrets.csv?program_id={recorded.program}").status_code == 404


def test_the_ledger_export_lists_every_entry_oldest_first(client, recorded):
    sign_in(client, "max")
    response = client.get("/reports/ledger.csv")
    assert response.is_streamed
    rows = list(csv.DictReader(io.StringIO(csv_rows(response.get_data(as_text=True), notice=True))))
    assert [r["points"] for r in rows] == ["10", "15", "0"]
    assert rows[0]["value_usd"] == "2.50" and rows[0]["program"] == "Stimulant vouchers"


@pytest.mark.parametrize("program_id", ["9" * 25, "abc", "-1", "0"])
def test_a_ledger_export_of_a_programme_no_row_can_be_is_404(client, recorded, program_id):
    sign_in(client, "max")
    assert client.get(f"/reports/ledger.csv?program_id={program_id}").status_code == 404


def test_a_counselor_may_not_export(client, recorded):
    sign_in(client, "cora")
    assert client.get("/reports/ledger.csv").status_code == 403
    assert client.get("/reports/funders.csv").status_code == 403


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
