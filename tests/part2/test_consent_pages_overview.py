"""Where staff meet the Part 2 pages: the overview (/staff/part2) of what waits within their reach, the panel on a
patient's record, and the caseload's line of revocation requests."""

from __future__ import annotations

from datetime import date

import pytest

from part2.consent_pages_support import NOW, TODAY, add_consent, add_disclosure, add_request, add_revocation

from helpers import sign_in, statements

pytestmark = pytest.mark.time_machine(NOW)


@pytest.fixture
def waiting(app, personas) -> dict[str, int]:
    """Pat (Cora's) asked on 10 and 12 March to revoke two consents; Olive (Otto's) on 11 March; a third consent of
    Pat's was revoked after its request, so nothing of it waits. Pat had disclosures 5 days and 40 days ago, Olive
    one 2 days ago."""
    pat_first = add_consent(app, personas.patient, personas.counselor, recipient="County Court")
    pat_second = add_consent(app, personas.patient, personas.counselor, recipient="Dr Ana Ruiz",
                             signed_on=date(2027, 2, 1))
    done = add_consent(app, personas.patient, personas.counselor, recipient="Old Clinic")
    olive = add_consent(app, personas.other_patient, personas.other_counselor, recipient="Olive's doctor")
    add_request(app, pat_second, personas.patient, date(2027, 3, 12))
    add_request(app, pat_first, personas.patient, date(2027, 3, 10), note="Case closed")
    add_request(app, olive, personas.other_patient, date(2027, 3, 11))
    add_request(app, done, personas.patient, date(2027, 3, 1))
    add_revocation(app, done, personas.counselor, date(2027, 3, 1))
    add_disclosure(app, personas.patient, pat_second, date(2027, 3, 10), description="February results")
    add_disclosure(app, personas.patient, pat_second, date(2027, 2, 3), description="January results")
    add_disclosure(app, personas.other_patient, olive, date(2027, 3, 13), description="Olive's results")
    return {"pat_first": pat_first, "pat_second": pat_second, "olive": olive}


@pytest.mark.parametrize("username", ["ada", "max", "cora", "otto"])
def test_the_overview_opens_for_every_staff_role(app, client, personas, username):
    sign_in(client, username)
    assert client.get("/staff/part2").status_code == 200


def test_the_overview_is_not_for_patients(app, client, personas):
    sign_in(client, "pat")
    assert client.get("/staff/part2").status_code == 404


def test_a_counselor_sees_the_requests_and_disclosures_of_their_own_caseload_only(app, client, personas, waiting):
    sign_in(client, "cora")
    html = client.get("/staff/part2").get_data(as_text=True)
    assert html.index("Asked on Wed 10 Mar 2027") < html.index("Asked on Fri 12 Mar 2027")  # the oldest first
    assert "to revoke the consent to disclose to County Court" in html and "Case closed" in html
    assert "Old Clinic" not in html  # its revocation is recorded
    assert "Olive" not in html
    assert "February results" in html and "January results" not in html  # the last 30 days only
    assert f"/staff/patients/{personas.patient}/consents#consent-{waiting['pat_first']}" in html


def test_a_manager_sees_every_patients_requests_and_disclosures(app, client, personas, waiting):
    sign_in(client, "max")
    html = client.get("/staff/part2").get_data(as_text=True)
    assert [html.index(day) < html.index("Asked on Fri 12 Mar 2027")
            for day in ("Asked on Wed 10 Mar 2027", "Asked on Thu 11 Mar 2027")] == [True, True]
    assert "Olive&#39;s results" in html and "February results" in html
    assert html.index("Olive&#39;s results") < html.index("February results")  # the latest first


def test_the_overview_view_names_every_patient_it_showed_in_one_audit_row(app, client, personas, waiting):
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    sign_in(client, "max")
    client.get("/staff/part2")
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "part2.overview")).all()
        assert [r.patient_ids for r in rows] == [f",{personas.patient},{personas.other_patient},"]


def test_the_overviews_search_finds_patients_within_reach_with_links_to_their_pages(app, client, personas):
    sign_in(client, "cora")
    mine = client.get("/staff/part2?q=pat").get_data(as_text=True)
    assert f"/staff/patients/{personas.patient}/consents" in mine
    assert f"/staff/patients/{personas.patient}/disclosures" in mine
    others = client.get("/staff/part2?q=olive").get_data(as_text=True)
    assert "No patient you may see matches" in others and f"/patients/{personas.other_patient}/" not in others


def test_the_nav_links_to_the_overview_for_staff(app, client, personas):
    sign_in(client, "max")
    assert 'href="/staff/part2"' in client.get("/staff/part2").get_data(as_text=True)


def test_the_patient_record_shows_the_part2_counts_with_links(app, client, personas, waiting):
    expired = add_consent(app, personas.patient, personas.counselor, recipient="Last year",
                          signed_on=date(2026, 1, 5), expires_on=date(2026, 12, 31))
    add_disclosure(app, personas.patient, expired, date(2024, 3, 15))  # the accounting's first day
    add_disclosure(app, personas.patient, expired, date(2024, 3, 14))  # a day before its three years
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{personas.patient}").get_data(as_text=True)
    panel = html[html.index('id="part2-title"'):]
    assert "<strong>2</strong> active consents" in panel
    assert '<span class="badge badge-warn">2</span> revocation requests waiting' in panel
    assert "<strong>3</strong> disclosures in the last three years" in panel
    assert f'href="/staff/patients/{personas.patient}/consents"' in panel
    assert f'href="/staff/patients/{personas.patient}/disclosures"' in panel


def test_the_part2_counts_take_one_statement(app, personas, waiting):
    from cm_tracker.services.queries.consents import Part2Summary, part2_summary

    with app.app_context(), statements(app) as seen:
        summary = part2_summary(personas.patient, TODAY)
    assert (summary, len(seen)) == (Part2Summary(active=2, pending_requests=2, disclosures=2), 1)


def test_a_patient_without_consents_counts_nothing(app, personas):
    from cm_tracker.services.queries.consents import Part2Summary, part2_summary

    with app.app_context():
        assert part2_summary(personas.patient, TODAY) == Part2Summary(0, 0, 0)


def test_the_caseload_says_how_many_revocation_requests_wait_within_reach(app, client, personas, waiting):
    sign_in(client, "cora")
    html = client.get("/staff/").get_data(as_text=True)
    assert '<a href="/staff/part2">2 revocation requests wait</a>' in html
    client.post("/sign-out")
    sign_in(client, "otto")
    assert '<a href="/staff/part2">1 revocation request waits</a>' in client.get("/staff/").get_data(as_text=True)


def test_the_caseload_says_nothing_when_no_request_waits(app, client, personas):
    sign_in(client, "cora")
    assert "revocation request" not in client.get("/staff/").get_data(as_text=True)


def test_the_caseloads_line_costs_one_statement(app, client, personas, waiting):
    sign_in(client, "cora")
    client.get("/staff/")  # warm the session and the caches
    with statements(app) as seen:
        client.get("/staff/")
    assert sum("consent_revocation_requests" in s for s in seen) == 1
