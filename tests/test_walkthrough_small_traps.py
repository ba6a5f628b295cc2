"""Small traps the clinic-day walkthrough met (issue 12, "The rest the walkthrough saw"): wording, links, icons."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

from factories import START
from helpers import sign_in
from worlds.clinic import record

FIXED = {"kind": "fixed", "points": 10}


def test_a_fixed_reward_target_shows_no_streak_on_the_caseload(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment
    from cm_tracker.services.queries.streaks import streaks_for

    clinic = make_clinic(FIXED)
    record(clinic, [(0, "N"), (3, "N")])
    enrollment = db.session.get(Enrollment, clinic.enrollment_id)
    assert streaks_for([enrollment], START + timedelta(days=4))[enrollment.id] == ()


def test_an_escalating_target_still_shows_its_run_on_the_caseload(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment
    from cm_tracker.services.queries.streaks import streaks_for

    clinic = make_clinic()
    record(clinic, [(0, "N"), (3, "N")])
    enrollment = db.session.get(Enrollment, clinic.enrollment_id)
    assert [s.text for s in streaks_for([enrollment], START + timedelta(days=4))[enrollment.id]] == \
        ["stimulants: 2 in a row"]


def test_a_fixed_reward_success_says_no_ordinal_in_the_portal(app):
    from cm_tracker.engine import Outcome
    from cm_tracker.patient.wording import _award_phrase

    award = SimpleNamespace(outcome=Outcome.SUCCESS, run=0)
    with app.test_request_context("/"):
        assert _award_phrase(SimpleNamespace(award=award, cause=None, label="counseling sessions")) == \
            "Result for counseling sessions"


def test_a_fixed_reward_target_is_not_called_a_streak_yet_to_start(app):
    from cm_tracker.patient.wording import streak_run
    from cm_tracker.services.queries.portal import Streak

    fixed = Streak("sessions", "sessions", "attendance", 0, 10, 0, 250, 10, 0, resets=False)
    with app.test_request_context("/"):
        assert streak_run(fixed) == "The same reward for every success."
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        assert streak_run(fixed) == "La misma recompensa por cada logro."


def test_the_close_day_summary_counts_one_test_in_the_singular():
    from cm_tracker.services.usecases.visits import DayClosed

    done = DayClosed(START, missed=2, excused=1, sessions_excused=1)
    assert done.summary == ("close-day 2026-01-05: 2 tests missed, 1 test excused, 0 sessions unexcused, "
                            "1 session excused, 0 errors")


def test_the_report_filter_sends_no_literal_none_for_every_counselor(client, personas):
    sign_in(client, "max")
    html = client.get("/reports/outcomes").get_data(as_text=True)
    assert re.search(r'<option selected value="">Every counselor</option>', html)
    assert 'value="None"' not in html


def test_every_page_links_an_icon_that_answers(client):
    html = client.get("/auth/sign-in").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert href and href.group(1) == "/static/favicon.svg"
    icon = client.get(href.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


def test_favicon_ico_answers_with_the_icon(client):
    response = client.get("/favicon.ico", follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"


def test_the_close_day_date_label_names_its_input(client, personas):
    sign_in(client, "cora")
    html = client.get("/staff/close-day").get_data(as_text=True)
    assert '<label for="day">' in html and re.search(r'<input[^>]* id="day"[^>]* type="date"', html)
