"""Corrections say what they did: the preview names the test each adjustment belongs to and the net change, and the
confirmation lists every adjustment the correction posted, with a sentence for the patient naming the test's day."""

from __future__ import annotations

import re
from datetime import timedelta

from desk.conftest import negative, patient, user

from helpers import sign_in


def _positive(day):
    from cm_tracker.models import AnalyteResult

    data = negative(day)
    data.results["cocaine"] = AnalyteResult.POSITIVE
    return data


def _positive_then_negative(app, desk) -> list[int]:
    """A positive test three days ago, then a negative two days ago (10 points): correcting the positive to negative
    posts two adjustments, +10 on the first test and +5 on the second (its streak is now two long)."""
    from cm_tracker.services.usecases.specimens import record_specimen

    with app.app_context():
        counselor = user(patient(desk.patient).counselor_id)
        first = record_specimen(patient(desk.patient), _positive(desk.today - timedelta(days=3)), actor=counselor)
        second = record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=2)), actor=counselor)
        return [first.specimen.id, second.specimen.id]


def _form(desk, action: str) -> dict[str, str]:
    return {"version": "1", "reason": "Lab says negative", "status": "final", "result_cocaine": "negative",
            "result_methamphetamine": "negative", "validity": "valid", "temperature_ok": "yes",
            "collected_on": (desk.today - timedelta(days=3)).isoformat(), "collected_time": "00:05", "action": action}


def _day(desk, back: int) -> str:
    return (desk.today - timedelta(days=back)).strftime("%a %d %b %Y")


def test_the_preview_names_the_test_of_each_adjustment_and_the_net_change(client, app, desk):
    first, _ = _positive_then_negative(app, desk)
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{desk.patient}/specimens/{first}/correct",
                       data=_form(desk, "preview")).get_data(as_text=True)
    assert "Confirming posts 2 adjustments" in html
    assert f"Test of {_day(desk, 3)} · stimulants" in html and f"Test of {_day(desk, 2)} · stimulants" in html
    assert "<strong>Net change:</strong> +15 points ($3.75)" in html


def test_the_confirmation_shows_every_adjustment_the_correction_posted(client, app, desk):
    first, _ = _positive_then_negative(app, desk)
    sign_in(client, "cora")
    confirmed = client.post(f"/staff/patients/{desk.patient}/specimens/{first}/correct", data=_form(desk, "confirm"))
    assert confirmed.status_code == 302 and f"/specimens/{first}/corrected?posted=" in confirmed.headers["Location"]
    html = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert f"Test of {_day(desk, 3)} corrected" in html and "2 adjustments posted" in html
    amounts = re.findall(r'<strong class="entry-event">([^<]+)</strong>.*?<span>(\+?-?\d+) points</span>', html,
                         flags=re.S)
    assert amounts == [(f"Test of {_day(desk, 3)} · stimulants", "+10"),
                       (f"Test of {_day(desk, 2)} · stimulants", "+5")]
    assert "<strong>Net change:</strong> +15 points ($3.75)" in html
    assert (f"Your test of {_day(desk, 3)} is corrected: you get 15 points ($3.75) more. "
            "Your balance is now 25 points ($6.25).") in html
    assert "today" not in html[html.index('class="tell-sentence"'):html.index("</p>", html.index("tell-sentence"))]
    assert "The correction is saved." in html


def test_a_correction_that_takes_points_back_says_so_with_the_tests_day(app, ctx, desk):
    from cm_tracker.models import AnalyteResult
    from cm_tracker.services.queries.corrections import posted_correction
    from cm_tracker.services.usecases.specimens import correct_specimen, record_specimen

    counselor = user(patient(desk.patient).counselor_id)
    first = record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=2)), actor=counselor).specimen
    done = correct_specimen(first, version=1, reason="Typo", actor=counselor,
                            changes={"results": {"cocaine": AnalyteResult.POSITIVE,
                                                 "methamphetamine": AnalyteResult.NEGATIVE}})
    posted = posted_correction(first, [e.id for e in done.adjustments])
    assert (posted.net.points, posted.net.value_cents) == (-10, -250)
    assert posted.sentence == (f"Your test of {_day(desk, 2)} is corrected: 10 points ($2.50) are taken back. "
                               "Your balance is now 0 points.")


def test_a_correction_posting_nothing_says_that_nothing_changes(client, app, desk):
    first, _ = _positive_then_negative(app, desk)
    sign_in(client, "cora")
    form = {**_form(desk, "confirm"), "result_cocaine": "positive", "note": "cup 2"}
    html = client.post(f"/staff/patients/{desk.patient}/specimens/{first}/correct", data=form,
                       follow_redirects=True).get_data(as_text=True)
    assert "No adjustment posted" in html and "what you earned does not change" in html


def test_an_attendance_correction_confirms_with_its_session_day(client, app, desk):
    from cm_tracker.models import AttendanceStatus
    from cm_tracker.services.usecases.attendance import record_attendance
    from desk.conftest import moment

    with app.app_context():
        mark = record_attendance(patient(desk.patient), occurred_at=moment(desk.today - timedelta(days=1), 18),
                                 target_key="groups", status=AttendanceStatus.ATTENDED,
                                 actor=user(patient(desk.patient).counselor_id)).record.id
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{desk.patient}/attendance/{mark}/correct", data={
        "version": "1", "status": "unexcused", "reason": "Left early", "action": "confirm"},
        follow_redirects=True).get_data(as_text=True)
    assert f"Session mark of {_day(desk, 1)} corrected" in html and "1 adjustment posted" in html
    assert f"Session of {_day(desk, 1)} · groups" in html and "<strong>Net change:</strong> -5 points" in html
    assert f"Your session of {_day(desk, 1)} is corrected: 5 points ($1.25) are taken back." in html


def test_the_confirmation_ignores_entries_of_another_patient(client, app, desk, history):
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry

    first, _ = _positive_then_negative(app, desk)
    with app.app_context():
        others = db.session.scalars(select(LedgerEntry.id).where(LedgerEntry.patient_id != desk.patient)).all()
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{desk.patient}/specimens/{first}/corrected",
                      query_string={"posted": ",".join(map(str, others)) + ",junk"}).get_data(as_text=True)
    assert "No adjustment posted" in html


def test_another_counselor_cannot_open_the_confirmation(client, app, desk):
    first, _ = _positive_then_negative(app, desk)
    sign_in(client, "otto")
    assert client.get(f"/staff/patients/{desk.patient}/specimens/{first}/corrected").status_code == 404
