"""The patient portal: their own record only, without any patient id in the address."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpers import sign_in


def test_the_portal_shows_the_patients_balance_draws_and_recent_entries(client, personas, history):
    sign_in(client, "pat")
    html = client.get("/portal/").get_data(as_text=True)
    assert "<h1>Your rewards</h1>" in html and "Hello, Pat." in html
    assert "50 <span>points</span>" in html and "$12.50" in html
    assert "2 prize draws" in html
    # The seeded entries carry no engine history, so the portal says them plainly (tests/portal has the rest).
    assert "Test for stimulants: 15 points" in html
    assert "Points exchanged at the desk" in html
    assert f'<time datetime="{history.next_visit.isoformat()}">' in html
    assert "Olive" not in html


def test_the_portal_says_so_kindly_when_nothing_is_recorded(client, personas):
    sign_in(client, "pat")
    html = client.get("/portal/").get_data(as_text=True)
    assert "Nothing is recorded yet." in html and "$0.00" in html


def test_opening_the_portal_is_audited_as_a_view_of_the_patients_record(client, app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    sign_in(client, "pat")
    client.get("/portal/")
    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "patient.view"))
    assert (row.patient_id, row.username) == (personas.patient, "pat")


@pytest.mark.parametrize("path", ["/staff/", "/admin/", "/admin/audit", "/reports/"])
def test_a_patient_gets_404_on_staff_pages(client, personas, path):
    sign_in(client, "pat")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("username", ["ada", "max", "cora"])
def test_staff_get_403_on_the_portal(client, personas, username):
    sign_in(client, username)
    assert client.get("/portal/").status_code == 403


def test_a_patient_lands_on_the_portal(client, personas):
    sign_in(client, "pat")
    assert client.get("/").headers["Location"].endswith("/portal/")
