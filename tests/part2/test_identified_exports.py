"""The managers' view of identified exports (/reports/exports, docs/reports.md "Identified exports"): every export
that named patients, newest first, with who made it, when, what and which patients; the de-identified funders'
export and the aggregate tables are not there; reading it is on the trail too."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from helpers import sign_in

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # Friday 20 November 2026, 12:00 in the clinic (Los Angeles)
pytestmark = pytest.mark.time_machine(NOW)


def _export_rows(html: str) -> list[str]:
    """The "What" cell of each row of the exports table, in order."""
    return re.findall(r'<th scope="row"><a href="/reports/exports/\d+">([^<]+)</a></th>', html)


def _insert(app, **values) -> int:
    """An audit row written as the Part 2 pages write theirs (the accounting, a printed packet)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent, AuditOutcome

    with app.app_context():
        row = AuditEvent(action="report.export", outcome=AuditOutcome.SUCCESS, **values)
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture
def exported(app, client, history, personas, time_machine):
    """Max exports the outcomes' patients table on Wed 18 Nov (09:00 clinic time), Ada the full ledger on Thu 19 Nov
    (10:30), Max the funders' export and the weekly table (neither identified) that evening; Cora prints Pat's
    accounting and a disclosure packet #7 for Pat on Fri 20 Nov (08:00 and 09:15). Returns the ids by name."""
    from cm_tracker.models.audit import listed

    ids = {}
    for moment, user, path in ((datetime(2026, 11, 18, 17, 0, tzinfo=UTC), "max",
                                f"/reports/outcomes/patients.csv?program_id={personas.program}"),
                               (datetime(2026, 11, 19, 18, 30, tzinfo=UTC), "ada", "/reports/ledger.csv"),
                               (datetime(2026, 11, 20, 3, 0, tzinfo=UTC), "max", "/reports/funders.csv"),
                               (datetime(2026, 11, 20, 3, 5, tzinfo=UTC), "max",
                                f"/reports/outcomes/weekly.csv?program_id={personas.program}")):
        time_machine.move_to(moment, tick=False)
        sign_in(client, user)
        assert client.get(path).status_code == 200
        client.post("/sign-out")
    ids["accounting"] = _insert(
        app, occurred_at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC), user_id=personas.counselor, username="cora",
        role="counselor", object_type="report", object_id="accounting", patient_id=personas.patient,
        patient_ids=listed([personas.patient]), detail={"from": "2023-11-20", "to": "2026-11-20"})
    ids["packet"] = _insert(
        app, occurred_at=datetime(2026, 11, 20, 17, 15, tzinfo=UTC), user_id=personas.counselor, username="cora",
        role="counselor", object_type="disclosure", object_id="7", patient_ids=listed([personas.patient]),
        detail={"packet": True, "language": "es"})
    time_machine.move_to(NOW, tick=False)
    return ids


def _find(app, page: int = 1, **criteria):
    from cm_tracker.services.queries.identified_exports import ExportCriteria, find

    with app.test_request_context():
        return find(ExportCriteria(**criteria), page=page)


def test_every_identified_export_is_listed_newest_first_and_nothing_else(app, exported):
    found = _find(app)
    assert [r.what for r in found.rows] == [
        "Disclosure packet #7", "Accounting of disclosures (CSV)", "The full ledger",
        "Outcomes report: patients table"]
    assert found.total == 4 and found.pages == 1


def test_each_row_says_who_when_what_window_and_which_patients(app, exported, personas):
    from zoneinfo import ZoneInfo

    rows = {r.what: r for r in _find(app).rows}
    table = rows["Outcomes report: patients table"]
    assert (table.display_name, table.username, table.role) == ("Max Manager", "max", "manager")
    assert table.occurred_at.astimezone(ZoneInfo("America/Los_Angeles")) == datetime(
        2026, 11, 18, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert table.window == "Stimulant vouchers · the programme's start to the day of the export"
    assert table.patient_ids == [personas.patient, personas.other_patient] and table.patient_count == 2
    assert [(p.display_name, p.record_number) for p in table.shown] == [("Pat Patient", "MRN-001"),
                                                                        ("Olive Other", "MRN-002")]
    ledger = rows["The full ledger"]
    assert (ledger.display_name, ledger.role, ledger.window, ledger.patient_count) == (
        "Ada Admin", "admin", "Every programme", 2)
    assert rows["Accounting of disclosures (CSV)"].window == "Mon 20 Nov 2023 to Fri 20 Nov 2026"
    assert rows["Accounting of disclosures (CSV)"].patient_ids == [personas.patient]
    assert rows["Disclosure packet #7"].window == "printed in Spanish"


def test_the_page_shows_the_rows_in_clinic_time_with_the_exporter_and_the_first_names(client, exported):
    sign_in(client, "max")
    html = client.get("/reports/exports").get_data(as_text=True)
    assert _export_rows(html) == ["Disclosure packet #7", "Accounting of disclosures (CSV)", "The full ledger",
                                  "Outcomes report: patients table"]
    assert '<time datetime="2026-11-18T17:00:00+00:00">2026-11-18 09:00</time>' in html
    assert 'Ada Admin\n            <span class="record-number"><span class="mono">ada</span>, admin</span>' in html
    assert "<strong>2</strong>:\n            Pat Patient, Olive Other</td>" in html
    assert "funders" not in html.lower().replace("de-identified funders", "")
    assert "part2-line" in html


@pytest.mark.parametrize(("criteria", "expected"), [
    ({"date_from": "2026-11-19", "date_to": "2026-11-19"}, ["The full ledger"]),
    ({"date_from": "2026-11-20"}, ["Disclosure packet #7", "Accounting of disclosures (CSV)"]),
    ({"date_to": "2026-11-18"}, ["Outcomes report: patients table"]),
])
def test_the_period_is_the_clinics_calendar(app, exported, criteria, expected):
    from datetime import date

    days = {name: date.fromisoformat(value) for name, value in criteria.items()}
    assert [r.what for r in _find(app, **days).rows] == expected


def test_an_export_made_in_the_clinics_evening_counts_on_that_clinic_day(app, client, personas, history,
                                                                         time_machine):
    """03:00 UTC on 20 November is 19:00 on 19 November in Los Angeles."""
    from datetime import date

    time_machine.move_to(datetime(2026, 11, 20, 3, 0, tzinfo=UTC), tick=False)
    sign_in(client, "max")
    client.get("/reports/ledger.csv").close()
    assert [r.what for r in _find(app, date_from=date(2026, 11, 19), date_to=date(2026, 11, 19)).rows] == [
        "The full ledger"]
    assert _find(app, date_from=date(2026, 11, 20)).rows == []


def test_the_user_filter_keeps_that_users_exports(app, exported, personas):
    assert [r.what for r in _find(app, user_id=personas.admin).rows] == ["The full ledger"]
    assert [r.what for r in _find(app, user_id=personas.counselor).rows] == [
        "Disclosure packet #7", "Accounting of disclosures (CSV)"]


@pytest.mark.parametrize(("term", "expected"), [
    ("olive", ["The full ledger", "Outcomes report: patients table"]),
    ("MRN-002", ["The full ledger", "Outcomes report: patients table"]),
    ("pat patient", ["Disclosure packet #7", "Accounting of disclosures (CSV)", "The full ledger",
                     "Outcomes report: patients table"]),
])
def test_the_patient_filter_finds_the_exports_naming_that_patient(app, exported, term, expected):
    assert [r.what for r in _find(app, patient=term).rows] == expected


def test_a_record_number_means_that_patient_only(app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient
    from cm_tracker.services.queries.identified_exports import matching_patients

    with app.app_context():
        db.session.add(Patient(display_name="Mo Ten", record_number="MRN-0010"))
        db.session.commit()
        assert [p.record_number for p in matching_patients("mrn-001")[0]] == ["MRN-001"]
        by_name = ["MRN-0010", "MRN-002", "MRN-001"]  # Mo Ten, Olive Other, Pat Patient
        assert [p.record_number for p in matching_patients("MRN-00")[0]] == by_name


def test_a_patient_no_export_names_or_no_patient_at_all_is_said_so(client, exported, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient

    with client.application.app_context():
        db.session.add(Patient(display_name="Nora Never", record_number="MRN-404"))
        db.session.commit()
    sign_in(client, "max")
    html = client.get("/reports/exports?patient=MRN-404").get_data(as_text=True)
    assert "Naming Nora Never (MRN-404)." in html and "No identified export matches these filters." in html
    html = client.get("/reports/exports?patient=zzz").get_data(as_text=True)
    assert "No patient has a name or record number matching “zzz”." in html and _export_rows(html) == []


def test_a_search_matching_too_many_patients_asks_for_more(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient

    with app.app_context():
        db.session.add_all([Patient(display_name=f"Sam {n:02}", record_number=f"S-{n:02}") for n in range(51)])
        db.session.commit()
    sign_in(client, "max")
    html = client.get("/reports/exports?patient=sam").get_data(as_text=True)
    assert "More than 50 patients match “sam”: type more of the name, or the record number." in html


def test_bad_filters_are_shown_beside_their_field_and_keep_what_was_typed(client, personas):
    sign_in(client, "max")
    response = client.get("/reports/exports?date_from=2026-11-20&date_to=2026-11-19&patient=Pat&user_id=999999")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="date_to-error"' in html and "The end must be on or after the start." in html
    assert 'id="user_id-error"' in html
    assert 'value="Pat"' in html and 'value="2026-11-20"' in html


def _many_exports(app, personas, count: int, patients_each: int, prefix: str = "X") -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent, AuditOutcome, Patient
    from cm_tracker.models.audit import listed

    with app.app_context():
        made = [Patient(display_name=f"Extra {prefix}{n:03}", record_number=f"{prefix}-{n:03}")
                for n in range(patients_each)]
        db.session.add_all(made)
        db.session.flush()
        for n in range(count):
            db.session.add(AuditEvent(
                occurred_at=datetime(2026, 11, 1, 17, n % 60, tzinfo=UTC), user_id=personas.manager,
                username="max", role="manager", action="report.export", outcome=AuditOutcome.SUCCESS,
                object_type="report", object_id="budget/caps", patient_ids=listed(p.id for p in made),
                detail={"program_id": personas.program, "counselor_id": personas.counselor, "from": "2026-11-01",
                        "to": "2026-11-30", "identified": True}))
        db.session.commit()


def test_the_list_is_paged_newest_first_and_a_page_beyond_is_the_last(app, client, personas):
    _many_exports(app, personas, 30, 2)
    first, second = _find(app, page=1), _find(app, page=2)
    assert (len(first.rows), len(second.rows), first.pages, first.total) == (25, 5, 2, 30)
    assert {r.event_id for r in first.rows}.isdisjoint(r.event_id for r in second.rows)
    assert first.rows[0].occurred_at >= first.rows[-1].occurred_at >= second.rows[0].occurred_at
    assert first.rows[0].window == ("Stimulant vouchers · Cora Counselor's caseload · "
                                    "Sun 01 Nov 2026 to Mon 30 Nov 2026")
    sign_in(client, "max")
    html = client.get("/reports/exports?page=999999999999999999999").get_data(as_text=True)
    assert len(_export_rows(html)) == 5 and "Newer exports" in html and "Older exports" not in html


def test_a_page_costs_the_same_statements_however_many_patients_its_exports_name(app, client, personas):
    from helpers import statements

    sign_in(client, "max")
    _many_exports(app, personas, 2, 1)
    with statements(app) as few:
        assert client.get("/reports/exports?patient=extra").status_code == 200
    _many_exports(app, personas, 40, 40, prefix="Y")
    with statements(app) as many:
        assert client.get("/reports/exports?patient=extra").status_code == 200
    # The session and user, the exporters for the form, the patient search, the count, the rows, the names, the
    # programmes and counselors the filters name, the view's audit row (and its lane of the tamper-evident chain:
    # taking the place, setting the link).
    assert len(many) == len(few) <= 12, many


def test_viewing_the_list_is_audited_with_the_patients_it_showed(app, client, exported, personas):
    from api_support import audit_rows

    sign_in(client, "max")
    client.get("/reports/exports?patient=olive")
    [row] = audit_rows(app, "exports.view")
    assert row.username == "max" and row.detail == {"criteria": {"patient": "olive"}, "page": 1}
    assert row.listed_patient_ids == [personas.patient, personas.other_patient]


def test_the_export_page_lists_every_patient_with_a_link_for_an_admin(app, client, exported, personas):
    sign_in(client, "ada")
    ledger = _find(app, user_id=personas.admin).rows[0].event_id
    html = client.get(f"/reports/exports/{ledger}").get_data(as_text=True)
    assert "<h1>The full ledger</h1>" in html and "Ada Admin" in html and "Every programme" in html
    assert f'<a href="/staff/patients/{personas.patient}">Pat Patient</a>' in html
    assert '<td data-label="Record number"><span class="mono">MRN-002</span></td>' in html
    assert "part2-line" in html


def test_a_manager_sees_the_names_without_links_to_records_they_cannot_open(app, client, exported, personas):
    sign_in(client, "max")
    ledger = _find(app, user_id=personas.admin).rows[0].event_id
    html = client.get(f"/reports/exports/{ledger}").get_data(as_text=True)
    assert '<th scope="row">Pat Patient</th>' in html and "/staff/patients/" not in html


def test_viewing_an_export_is_audited_naming_its_patients(app, client, exported, personas):
    from api_support import audit_rows

    sign_in(client, "max")
    client.get(f"/reports/exports/{exported['accounting']}")
    [row] = audit_rows(app, "export.view")
    assert (row.object_type, row.object_id, row.listed_patient_ids) == (
        "audit_event", str(exported["accounting"]), [personas.patient])


def test_the_export_page_steps_through_its_patients_a_hundred_at_a_time(app, client, personas):
    _many_exports(app, personas, 1, 150)
    event_id = _find(app).rows[0].event_id
    sign_in(client, "max")
    first = client.get(f"/reports/exports/{event_id}").get_data(as_text=True)
    second = client.get(f"/reports/exports/{event_id}?page=2").get_data(as_text=True)
    assert first.count('<td data-label="Record number"><span class="mono">') == 100 and "page 1 of 2" in first
    assert second.count('<td data-label="Record number"><span class="mono">') == 50 and "X-149" in second
    assert "X-149" not in first and "Next patients" in first and "Previous patients" in second


def test_a_patient_id_no_record_has_is_said_so(app, client, personas):
    event_id = _insert(app, user_id=personas.manager, username="max", role="manager", object_type="report",
                       object_id="ledger", patient_ids=",999999,", detail={"program_id": None})
    sign_in(client, "max")
    html = client.get(f"/reports/exports/{event_id}").get_data(as_text=True)
    assert "No such record" in html and "id 999999" in html


@pytest.mark.parametrize("which", ["funders", "weekly", "missing", "not_an_export"])
def test_only_an_identified_export_has_a_page(app, client, exported, personas, which):
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    with app.app_context():
        ids = {e.object_id: e.id for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "report.export"))}
        other = db.session.scalar(select(AuditEvent.id).where(AuditEvent.action != "report.export").limit(1))
    event_id = {"funders": ids["funders"], "weekly": ids["outcomes/weekly"], "missing": 999999,
                "not_an_export": other}[which]
    sign_in(client, "max")
    assert client.get(f"/reports/exports/{event_id}").status_code == 404


@pytest.mark.parametrize(("username", "status"), [("cora", 403), ("otto", 403), ("pat", 404)])
@pytest.mark.parametrize("path", ["/reports/exports", "/reports/exports/{accounting}"])
def test_counselors_are_refused_and_patients_find_nothing(client, exported, username, status, path):
    sign_in(client, username)
    assert client.get(path.format(**exported)).status_code == status


def test_the_reports_overview_links_to_the_view(client, history):
    sign_in(client, "max")
    assert 'href="/reports/exports"' in client.get("/reports/").get_data(as_text=True)


@pytest.mark.parametrize(("path", "status"), [
    ("/reports/exports/99999999999999999999", 404), ("/reports/exports?user_id=abc", 422),
    ("/reports/exports?date_from=2026-02-31", 422), ("/reports/exports?page=-3", 200),
    ("/reports/exports?patient=" + "x" * 121, 422), ("/reports/exports/1?page=abc", 404),
])
def test_junk_in_the_address_is_refused_never_an_error(client, personas, path, status):
    sign_in(client, "max")
    assert client.get(path).status_code == status
