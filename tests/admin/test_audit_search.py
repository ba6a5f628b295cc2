"""The admin's audit trail search: by patient, user, clinic dates, action and outcome, newest first, 50 a page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select


def add_event(app, action, *, at, username="cora", patient_id=None, outcome="success"):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent, AuditOutcome

    with app.app_context():
        db.session.add(AuditEvent(occurred_at=at, username=username, role="counselor", action=action,
                                  patient_id=patient_id, object_type="patient", object_id=str(patient_id),
                                  outcome=AuditOutcome(outcome), source_address="10.0.0.7"))
        db.session.commit()


@pytest.fixture
def trail(app, personas):
    add_event(app, "patient.view", at=datetime(2026, 10, 20, 18, 0, tzinfo=UTC), patient_id=personas.patient)
    # 23:00 on 31 October in Los Angeles: the clinic's calendar puts it before November.
    add_event(app, "patient.view", at=datetime(2026, 11, 1, 6, 0, tzinfo=UTC), username="otto",
              patient_id=personas.other_patient)
    add_event(app, "patient.write_access", at=datetime(2026, 11, 10, 18, 0, tzinfo=UTC), username="otto",
              patient_id=personas.patient, outcome="denied")
    add_event(app, "patients.listed", at=datetime(2026, 11, 11, 18, 0, tzinfo=UTC), username="max")
    return personas


def rows(html: str) -> int:
    return html.count('<td class="mono small">10.0.0.7</td>')


def test_the_trail_lists_events_newest_first_with_utc_and_clinic_time(admin, trail):
    html = admin.get("/admin/audit").get_data(as_text=True)
    assert "2026-11-10 18:00:00" in html and "2026-11-10 10:00 clinic time" in html
    assert html.index("patients.listed") < html.index("patient.write_access")
    assert "MRN-001" in html and "10.0.0.7" in html


def test_it_filters_by_patient_record_number(admin, trail):
    html = admin.get("/admin/audit?patient=MRN-001").get_data(as_text=True)
    assert rows(html) == 2 and "MRN-002" not in html


def test_it_filters_by_patient_id(admin, trail):
    html = admin.get(f"/admin/audit?patient={trail.other_patient}").get_data(as_text=True)
    assert rows(html) == 1 and "MRN-002" in html


def test_an_unknown_patient_says_so(admin, trail):
    assert "No patient has the record number or id" in admin.get("/admin/audit?patient=MRN-404").get_data(as_text=True)


def test_an_id_no_patient_can_have_is_an_unknown_patient(admin, trail):
    html = admin.get("/admin/audit?patient=" + "9" * 25).get_data(as_text=True)
    assert "No patient has the record number or id" in html


def test_a_nul_in_a_filter_is_refused_before_any_search(admin, trail):
    # cm_tracker/input_guard.py refuses NUL in any query string or form, for every page and the API alike.
    response = admin.get("/admin/audit?username=co%00ra")
    assert response.status_code == 400
    assert rows(response.get_data(as_text=True)) == 0


def test_a_page_beyond_any_trail_is_empty_not_an_error(admin, trail):
    response = admin.get("/admin/audit?page=" + "9" * 25)
    assert response.status_code == 200 and rows(response.get_data(as_text=True)) == 0


def test_it_filters_by_username(admin, trail):
    html = admin.get("/admin/audit?username=OTTO").get_data(as_text=True)
    assert rows(html) == 2 and '<span class="mono">cora</span>' not in html


def test_it_filters_by_clinic_dates(admin, trail):
    html = admin.get("/admin/audit?date_from=2026-11-01&date_to=2026-11-10").get_data(as_text=True)
    assert rows(html) == 1 and "patient.write_access" in html


def test_the_date_range_must_not_run_backwards(admin, trail):
    html = admin.get("/admin/audit?date_from=2026-11-10&date_to=2026-11-01").get_data(as_text=True)
    assert "The end date is before the start date." in html and rows(html) == 0


def test_it_filters_by_action_family_and_outcome(admin, trail):
    assert rows(admin.get("/admin/audit?action=patient").get_data(as_text=True)) == 3
    assert rows(admin.get("/admin/audit?action=patient&outcome=denied").get_data(as_text=True)) == 1


def test_searching_the_trail_is_itself_recorded(admin, app, trail):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    admin.get("/admin/audit?username=otto")
    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.search"))
    assert row.username == "ada" and row.detail["criteria"] == {"username": "otto"}


def test_results_come_fifty_to_a_page(admin, app, personas):
    for minute in range(55):
        add_event(app, "patient.view", at=datetime(2026, 11, 12, 18, minute, tzinfo=UTC), patient_id=personas.patient)
    first = admin.get("/admin/audit?patient=MRN-001&action=patient.view").get_data(as_text=True)
    assert rows(first) == 50 and "Older events" in first and "page=2" in first and "patient=MRN-001" in first
    second = admin.get("/admin/audit?patient=MRN-001&action=patient.view&page=2").get_data(as_text=True)
    assert rows(second) == 5 and "Newer events" in second and "Older events" not in second
