"""Desk entry traps (issue 12, items 2, 3 and 6): a stale visit form (Back after saving, a second tab) shows the
visit as recorded and keeps what was typed; another date on a visit's form asks which visit the specimen is for;
the result says the test's day; a refused form has an error summary at the top linking each field."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from desk.conftest import negative, patient, user, visit_on

from helpers import sign_in

# Tuesday 1 December 2026, 11:00 at the clinic (America/Los_Angeles): yesterday is Monday 30 November.
pytestmark = pytest.mark.time_machine(datetime(2026, 12, 1, 19, 0, tzinfo=UTC))

NEGATIVE_FORM = {"result_cocaine": "negative", "result_methamphetamine": "negative", "validity": "valid",
                 "temperature_ok": "yes", "observed": "yes", "method": "poc", "status": "final"}


def _form(day, at="09:05", **changes):
    return {**NEGATIVE_FORM, "collected_on": day.isoformat(), "collected_time": at, **changes}


def _record_url(desk, visit):
    return f"/staff/patients/{desk.patient}/visits/{visit}/record"


def _counts(app):
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry, Specimen

    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Specimen)),
                db.session.scalar(select(func.count()).select_from(LedgerEntry)))


def _specimen_of(app, visit):
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    with app.app_context():
        return db.session.scalar(select(Specimen.id).where(Specimen.visit_id == visit))


def _visits(app, desk):
    with app.app_context():
        return visit_on(desk.enrollment, desk.today), visit_on(desk.enrollment, desk.today - timedelta(days=1))


def _checked(html, name, value):
    return re.search(rf'<input[^>]*checked[^>]*name="{name}"[^>]*value="{value}"|<input[^>]*name="{name}"[^>]*'
                     rf'value="{value}"[^>]*checked', html) is not None


# Item 2: a stale form never loses what was typed.

def test_the_same_form_sent_again_after_saving_shows_the_visit_recorded_and_writes_nothing(client, desk, app):
    sign_in(client, "cora")
    today, _ = _visits(app, desk)
    assert client.post(_record_url(desk, today), data=_form(desk.today)).status_code == 302
    before = _counts(app)
    again = client.post(_record_url(desk, today), data=_form(desk.today))
    html = again.get_data(as_text=True)
    assert again.status_code == 409
    assert "This visit is already recorded" in html and "Recorded by Cora Counselor on Tue 01 Dec 2026 at" in html
    assert "What you typed matches what is recorded: there is nothing more to do." in html
    specimen = _specimen_of(app, today)
    assert f'href="/staff/patients/{desk.patient}/specimens/{specimen}/correct"' in html
    assert _counts(app) == before == (1, 1)


def test_a_second_tab_with_another_result_says_the_results_conflict_and_keeps_what_was_typed(client, desk, app):
    from cm_tracker.services.usecases.specimens import record_specimen

    today, _ = _visits(app, desk)
    with app.app_context():
        record_specimen(patient(desk.patient), negative(desk.today, visit_id=today), actor=user(desk_counselor()))
    before = _counts(app)
    sign_in(client, "cora")
    sent = client.post(_record_url(desk, today), data=_form(desk.today, result_cocaine="positive", method="lab",
                                                            note="Second tab: lab says cocaine"))
    html = sent.get_data(as_text=True)
    assert sent.status_code == 409
    assert "What you typed differs from what is recorded:" in html
    assert "Cocaine: recorded <strong>Negative</strong>, you typed <strong>Positive</strong>" in html
    assert "Method: recorded <strong>not chosen</strong>, you typed <strong>Lab</strong>" in html
    assert "Methamphetamine: recorded" not in html  # the same on both: no conflict
    # What was typed is on the page, not saved: the chosen radios and the note.
    assert _checked(html, "result_cocaine", "positive") and _checked(html, "method", "lab")
    assert "Second tab: lab says cocaine</textarea>" in html
    assert "Correct the recorded result" in html and _counts(app) == before


def desk_counselor() -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    return db.session.scalar(select(User.id).where(User.username == "cora"))


def test_opening_a_recorded_visit_shows_what_was_recorded_instead_of_a_404(client, desk, app):
    sign_in(client, "cora")
    today, _ = _visits(app, desk)
    client.post(_record_url(desk, today), data=_form(desk.today, note="Observed by Cora"))
    page = client.get(_record_url(desk, today))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "This visit is already recorded" in html
    assert re.search(r"<dt>Cocaine</dt><dd>Negative</dd>", html) and "<dd>Point of care cup</dd>" in html
    assert "What you typed" not in html and "<dd>Observed by Cora</dd>" in html


def test_a_visit_recorded_by_another_desk_during_the_save_is_shown_recorded(client, desk, app, monkeypatch):
    from cm_tracker.staff import desk as desk_views

    real = desk_views.record_specimen

    def another_desk_first(person, data, *, actor):
        real(person, replace(data, collected_at=data.collected_at - timedelta(minutes=3)), actor=actor)
        return real(person, data, actor=actor)

    monkeypatch.setattr(desk_views, "record_specimen", another_desk_first)
    sign_in(client, "cora")
    today, _ = _visits(app, desk)
    sent = client.post(_record_url(desk, today), data=_form(desk.today))
    assert sent.status_code == 409 and "This visit is already recorded" in sent.get_data(as_text=True)
    assert _counts(app)[0] == 1


def test_a_visit_of_another_patient_is_still_not_found(client, desk, app):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient

    sign_in(client, "cora")
    today, _ = _visits(app, desk)
    with app.app_context():
        other = db.session.scalar(select(Patient.id).where(Patient.record_number == "MRN-001"))
    assert client.get(f"/staff/patients/{other}/visits/{today}/record").status_code == 404


# Item 3: a visit form records that visit.

def test_another_date_on_a_visits_form_asks_which_visit_and_saves_nothing(client, desk, app):
    sign_in(client, "cora")
    today, _ = _visits(app, desk)
    sent = client.post(_record_url(desk, today), data=_form(desk.today - timedelta(days=1)))
    html = sent.get_data(as_text=True)
    assert sent.status_code == 200 and _counts(app) == (0, 0)
    assert "This form is for the test due Tue 01 Dec 2026, but the collection date is Mon 30 Nov 2026." in html
    assert "The visit due Tuesday 1 December, collected on Monday 30 November" in html
    assert "The visit of Monday 30 November (the visit due Tuesday 1 December stays open)" in html
    assert re.search(r'<input[^>]*autofocus[^>]*name="belongs_to"|<input[^>]*name="belongs_to"[^>]*autofocus', html)
    assert _checked(html, "result_cocaine", "negative")  # what was typed is kept


def test_recording_by_the_typed_date_takes_that_days_visit_and_leaves_this_one_open(client, desk, app):
    sign_in(client, "cora")
    today, yesterday = _visits(app, desk)
    sent = client.post(_record_url(desk, today), data=_form(desk.today - timedelta(days=1), belongs_to="by_date"))
    assert sent.status_code == 302
    assert _specimen_of(app, yesterday) is not None and _specimen_of(app, today) is None
    html = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Your test is negative: you earned 10 points ($2.50) on Monday 30 November." in html
    patient_page = client.get(f"/staff/patients/{desk.patient}").get_data(as_text=True)
    assert _record_url(desk, today) in patient_page and _record_url(desk, yesterday) not in patient_page


def test_a_typed_date_without_an_open_visit_records_an_unscheduled_specimen_and_says_so(client, desk, app):
    from cm_tracker.services.usecases.specimens import record_specimen

    today, _ = _visits(app, desk)
    monday = desk.today - timedelta(days=1)
    with app.app_context():
        record_specimen(patient(desk.patient), negative(monday), actor=user(desk_counselor()))
    sign_in(client, "cora")
    asked = client.post(_record_url(desk, today), data=_form(monday)).get_data(as_text=True)
    assert ("No visit: an unscheduled specimen of Monday 30 November (the visit due Tuesday 1 December stays open)"
            in asked)
    sent = client.post(_record_url(desk, today), data=_form(monday, belongs_to="by_date"))
    html = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Recorded as an unscheduled specimen of Monday 30 November: it fulfils no scheduled visit." in html
    assert "you earned 15 points ($3.75) on Monday 30 November" in html
    assert _specimen_of(app, today) is None


def test_recording_for_the_visit_with_another_date_says_when_it_was_collected(client, desk, app):
    sign_in(client, "cora")
    today, yesterday = _visits(app, desk)
    sent = client.post(_record_url(desk, today), data=_form(desk.today - timedelta(days=1), belongs_to="due"))
    assert _specimen_of(app, today) is not None and _specimen_of(app, yesterday) is None
    html = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Collected on Monday 30 November, for the visit due Tuesday 1 December." in html
    assert "you earned 10 points ($2.50) on Monday 30 November." in html


def test_a_test_entered_late_names_its_day_and_todays_says_today(client, desk, app):
    sign_in(client, "cora")
    late = client.post(f"/staff/patients/{desk.patient}/specimens/new",
                       data=_form(desk.today - timedelta(days=2), result_cocaine="positive"))
    assert ("Your test is positive for cocaine: no points on Sunday 29 November, and the streak starts again."
            in client.get(late.headers["Location"]).get_data(as_text=True))
    now = client.post(f"/staff/patients/{desk.patient}/specimens/new", data=_form(desk.today))
    assert "you earned 10 points ($2.50) today." in client.get(now.headers["Location"]).get_data(as_text=True)


def test_the_day_is_said_with_its_year_when_it_is_not_this_years():
    from datetime import date

    from cm_tracker.services.queries.desk import on_the_day

    assert on_the_day(date(2025, 12, 31), date(2026, 1, 2)) == "on Wednesday 31 December 2025"
    assert on_the_day(date(2026, 11, 30), date(2026, 12, 1)) == "on Monday 30 November"
    assert on_the_day(date(2026, 12, 1), date(2026, 12, 1)) == "today"


# Item 6: desk errors where the eye is.

@pytest.mark.parametrize(("changes", "link", "label"), [
    ({"result_methamphetamine": ""}, "results", "Results: No result for methamphetamine"),
    ({"validity": ""}, "validity", "Validity: Say whether the specimen was valid"),
    ({"temperature_ok": "maybe"}, "temperature_ok", "Temperature in range (32-38 C): Not a valid choice"),
    ({"observed": "maybe"}, "observed", "Collection observed: Not a valid choice"),
    ({"method": "fax"}, "method", "Method: Not a valid choice"),
    ({"collected_time": ""}, "collected_time", "Time: Give the time as HH:MM."),
])
def test_a_refused_form_has_a_summary_at_the_top_linking_the_field_and_taking_focus(client, desk, changes, link,
                                                                                     label):
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{desk.patient}/specimens/new",
                       data=_form(desk.today, **changes)).get_data(as_text=True)
    summary = re.search(r'<div class="error-summary desk-errors"[^>]*>(.*?)</div>', html, re.S)
    assert summary and 'tabindex="-1" autofocus' in summary.group(0)
    assert re.search(rf'<a href="#{link}" data-field="{link}">{re.escape(label)}', summary.group(1))
    assert html.index("error-summary") < html.index('id="results"')  # at the top, above the fields
    assert f'id="{link}"' in html
    assert "autofocus" not in html[html.index('class="desk-form"'):]  # focus goes to the summary, not the first analyte


def test_an_error_in_the_collapsed_section_finds_it_open(client, desk):
    sign_in(client, "cora")
    closed = client.get(f"/staff/patients/{desk.patient}/specimens/new").get_data(as_text=True)
    assert '<details class="more" id="more">' in closed
    html = client.post(f"/staff/patients/{desk.patient}/specimens/new",
                       data=_form(desk.today, collected_time="", note="x" * 2001)).get_data(as_text=True)
    assert '<details class="more" id="more" open>' in html
    assert 'href="#collected_time"' in html and 'href="#note"' in html


def test_a_refused_service_check_links_the_time_field_in_the_summary(client, desk):
    sign_in(client, "cora")
    tomorrow = desk.today + timedelta(days=1)
    html = client.post(f"/staff/patients/{desk.patient}/specimens/new",
                       data=_form(tomorrow)).get_data(as_text=True)
    assert '<a href="#collected_on" data-field="collected_on">Collected on: The collection time is in the future.' \
        in html
    assert '<details class="more" id="more" open>' in html


