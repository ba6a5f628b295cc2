"""Desk entry: one screen per visit, the result page with the award and the sentence to tell the patient."""

from __future__ import annotations

import re

from sqlalchemy import select

from desk.conftest import audit_actions, negative, patient, user, visit_on

from helpers import sign_in

NEGATIVE_FORM = {"result_cocaine": "negative", "result_methamphetamine": "negative", "validity": "valid",
                 "temperature_ok": "yes", "observed": "yes", "method": "poc", "status": "final"}


def _form(day, **changes):
    return {**NEGATIVE_FORM, "collected_on": day.isoformat(), "collected_time": "00:05", **changes}


def test_the_entry_screen_asks_each_analyte_with_nothing_chosen_and_focus_on_the_first(client, desk, app):
    sign_in(client, "cora")
    with app.app_context():
        visit = visit_on(desk.enrollment, desk.today)
    html = client.get(f"/staff/patients/{desk.patient}/visits/{visit}/record").get_data(as_text=True)
    assert 'name="result_cocaine"' in html and 'name="result_methamphetamine"' in html
    radios = re.findall(r'<input[^>]*name="(result_\w+|validity)"[^>]*>', html)
    assert radios and all("checked" not in tag for tag in re.findall(r'<input[^>]*name="result_[^>]*>', html))
    assert re.search(r'<input[^>]*autofocus[^>]*name="result_cocaine"[^>]*value="negative"', html) or \
        re.search(r'<input[^>]*name="result_cocaine"[^>]*autofocus', html)


def test_recording_a_negative_test_shows_the_award_and_the_sentence(client, desk, app):
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    sign_in(client, "cora")
    with app.app_context():
        visit = visit_on(desk.enrollment, desk.today)
    response = client.post(f"/staff/patients/{desk.patient}/visits/{visit}/record", data=_form(desk.today))
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your test is negative: you earned 10 points ($2.50) today. Your next negative test earns 15 points." \
        in html
    assert "1st in a row for stimulants: 10 points" in html and "Tell the patient" in html
    with app.app_context():
        specimen = db.session.scalar(select(Specimen))
        assert specimen.visit_id == visit and specimen.recorded_by_id is not None
        assert "specimen.create" in audit_actions(desk.patient)


def test_the_third_negative_in_a_row_tells_the_bonus(client, desk, app):
    from cm_tracker.services.usecases.specimens import record_specimen

    with app.app_context():
        for back in (2, 1):
            day = desk.today.fromordinal(desk.today.toordinal() - back)
            record_specimen(patient(desk.patient), negative(day), actor=user(desk_counselor(app)))
    sign_in(client, "cora")
    with app.app_context():
        visit = visit_on(desk.enrollment, desk.today)
    location = client.post(f"/staff/patients/{desk.patient}/visits/{visit}/record",
                           data=_form(desk.today)).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert "you earned 60 points ($15.00) today. Your next negative test earns 25 points." in html


def desk_counselor(app) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    return db.session.scalar(select(User.id).where(User.username == "cora"))


def test_a_positive_result_says_so_and_what_the_next_negative_earns(client, desk, app):
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{desk.patient}/specimens/new",
                           data=_form(desk.today, result_cocaine="positive"))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your test is positive for cocaine: no points today, and the streak starts again. Your next negative " \
           "test earns 10 points." in html


def test_an_analyte_left_blank_is_refused_until_confirmed_not_tested(client, desk, app):
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    sign_in(client, "cora")
    data = _form(desk.today)
    del data["result_methamphetamine"]
    refused = client.post(f"/staff/patients/{desk.patient}/specimens/new", data=data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "No result for methamphetamine" in html
    assert re.search(r'name="result_cocaine"[^>]*value="negative"[^>]*checked|checked[^>]*name="result_cocaine"'
                     r'[^>]*value="negative"', html)  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(select(Specimen)) is None
    accepted = client.post(f"/staff/patients/{desk.patient}/specimens/new", data={**data, "confirm_untested": "y"})
    assert accepted.status_code == 302
    assert "cannot count" in client.get(accepted.headers["Location"]).get_data(as_text=True)


def test_a_final_result_without_validity_is_refused_beside_the_field(client, desk):
    sign_in(client, "cora")
    data = _form(desk.today)
    del data["validity"]
    html = client.post(f"/staff/patients/{desk.patient}/specimens/new", data=data).get_data(as_text=True)
    assert 'id="validity-error"' in html and "Say whether the specimen was valid" in html


def test_a_recorded_visit_cannot_be_recorded_twice(client, desk, app):
    sign_in(client, "cora")
    with app.app_context():
        visit = visit_on(desk.enrollment, desk.today)
    client.post(f"/staff/patients/{desk.patient}/visits/{visit}/record", data=_form(desk.today))
    # The page shows the visit as recorded (tests/desk/test_stale_and_moved_forms.py), and a form sent again
    # records nothing.
    assert "This visit is already recorded" in client.get(
        f"/staff/patients/{desk.patient}/visits/{visit}/record").get_data(as_text=True)
    assert client.post(f"/staff/patients/{desk.patient}/visits/{visit}/record",
                       data=_form(desk.today)).status_code == 409
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    with app.app_context():
        assert len(db.session.scalars(select(Specimen)).all()) == 1


def test_another_counselor_cannot_open_the_entry_screen(client, desk, app):
    sign_in(client, "otto")
    assert client.get(f"/staff/patients/{desk.patient}/specimens/new").status_code == 404


def test_an_api_specimen_fulfils_the_open_visit_of_its_day(client, desk, app):
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen
    from cm_tracker.services.usecases.specimens import record_specimen

    with app.app_context():
        record_specimen(patient(desk.patient), negative(desk.today), actor=user(desk_counselor(app)))
        assert db.session.scalar(select(Specimen.visit_id)) == visit_on(desk.enrollment, desk.today)
