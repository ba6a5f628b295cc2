"""Excuses are visible and final at the desk: an excused visit shows as excused, offers neither Record nor Excuse, and
raises no alert the next morning; a visit nobody recorded is "not recorded yet" until its day is closed."""

from __future__ import annotations

import re
from datetime import timedelta

from desk.conftest import user, visit_on

from helpers import sign_in


def _excuse(app, desk, back: int, reason: str = "Court date") -> None:
    from cm_tracker.services.usecases.visits import excuse_day
    from desk.conftest import patient

    with app.app_context():
        excuse_day(patient(desk.patient), on=desk.today - timedelta(days=back), reason=reason,
                   actor=user(patient(desk.patient).counselor_id))


def _close_clinic(app, desk, personas, back: int, reason: str) -> None:
    from cm_tracker.services.usecases.visits import close_clinic

    with app.app_context():
        close_clinic(on=desk.today - timedelta(days=back), reason=reason, actor=user(personas.admin))


def _visit_item(html: str, day_text: str) -> str:
    """The open-visit rows of one day (a test and a session), as one string."""
    items = re.findall(r'<li class="desk-item[^"]*">.*?</li>', html, flags=re.S)
    return "".join(i for i in items if day_text in i)


def _page(client, desk) -> str:
    sign_in(client, "cora")
    return client.get(f"/staff/patients/{desk.patient}").get_data(as_text=True)


def test_an_excused_visit_shows_its_excuse_and_offers_neither_record_nor_excuse(client, app, desk):
    _excuse(app, desk, 1)
    with app.app_context():
        yesterday_visit = visit_on(desk.enrollment, desk.today - timedelta(days=1))
        earlier_visit = visit_on(desk.enrollment, desk.today - timedelta(days=2))
    html = _page(client, desk)
    row = _visit_item(html, (desk.today - timedelta(days=1)).strftime("%a %d %b %Y"))
    assert row.count("Excused: Court date") == 2  # the test and the session of that day
    assert "desk-item-excused" in row and "Record" not in row and ">Excuse</a>" not in row
    assert f"/visits/{yesterday_visit}/record" not in html
    assert f"/visits/{earlier_visit}/record" in html  # a day without an excuse still offers Record
    # The count names only what is left to record: 7 days before today of a test and a session, plus today's two.
    assert re.search(r'Open visits <span class="count">14</span>', html)


def test_a_clinic_closure_shows_on_the_open_visits_as_the_reason(client, app, desk, personas):
    _close_clinic(app, desk, personas, 2, "Snow day")
    row = _visit_item(_page(client, desk), (desk.today - timedelta(days=2)).strftime("%a %d %b %Y"))
    assert row.count("Clinic closed: Snow day") == 2 and "Record" not in row


def test_an_excuse_in_advance_marks_the_scheduled_visits_as_excused(client, app, desk):
    _excuse(app, desk, -2, reason="Hospital appointment")
    html = _page(client, desk)
    scheduled = html[html.index('id="visits-title"'):html.index('id="ledger-title"')]
    assert scheduled.count("Excused: Hospital appointment") == 2  # that day's test and session, nothing else


def _alerts(client) -> str:
    sign_in(client, "cora")
    html = client.get("/staff/").get_data(as_text=True)
    section = html[html.index('id="alerts-title"'):]
    return section[:section.index("</section>")]


def test_an_unrecorded_visit_yesterday_is_not_recorded_yet_rather_than_missed(client, app, desk):
    alerts = _alerts(client)
    assert "Dana Desk: a visit yesterday is not recorded yet." in alerts and "alert-unrecorded" in alerts
    assert "missed" not in alerts


def test_an_excused_day_raises_no_alert_the_next_morning(client, app, desk):
    _excuse(app, desk, 1)
    alerts = _alerts(client)
    assert "Dana Desk" not in alerts


def test_an_excused_day_closed_by_the_job_raises_no_missed_alert(client, app, desk):
    from cm_tracker.services.usecases.visits import close_day

    _excuse(app, desk, 1)
    with app.app_context():
        done = close_day(desk.today - timedelta(days=1))
    assert (done.excused, done.missed) == (1, 0)
    assert "Dana Desk" not in _alerts(client)


def test_a_session_marked_unexcused_yesterday_is_a_missed_session(client, app, desk):
    from cm_tracker.models import AttendanceStatus
    from cm_tracker.services.usecases.attendance import record_attendance
    from desk.conftest import moment, patient

    with app.app_context():
        record_attendance(patient(desk.patient), occurred_at=moment(desk.today - timedelta(days=1), 18),
                          target_key="groups", status=AttendanceStatus.UNEXCUSED,
                          actor=user(patient(desk.patient).counselor_id))
    assert "Dana Desk missed a session yesterday." in _alerts(client)


def test_todays_excused_visit_is_due_without_a_record_button(client, app, desk):
    _excuse(app, desk, 0, reason="Family emergency")
    sign_in(client, "cora")
    html = client.get("/staff/").get_data(as_text=True)
    due = html[html.index("Due today"):html.index('id="overdue-title"') if 'id="overdue-title"' in html else None]
    assert "excused</span>" in due and "Record test" not in due


def test_the_report_cache_reads_the_same_excused_days_for_one_enrolment_as_for_a_chunk_of_them(app, desk, personas):
    """A desk entry reads its enrolment's visits, excuses and closures in one statement, a lab's chunk reads many
    enrolments' in three (queries/reports/cache.py): the same days either way, an excuse counting whatever the day
    and a closure only on a test visit's day (none is due before the enrolment began)."""
    from cm_tracker.services.queries.reports.cache import _visits_of, _visits_of_many

    _excuse(app, desk, 3)
    _close_clinic(app, desk, personas, 1, "Snow")
    _close_clinic(app, desk, personas, 10, "Before the enrolment began")
    with app.app_context():
        one = _visits_of(desk.enrollment, desk.today)
        many = _visits_of_many([desk.enrollment], desk.today)[desk.enrollment]
    assert one == many
    scheduled, excused, days = one
    assert excused == {desk.today - timedelta(days=3), desk.today - timedelta(days=1)}
    assert (len(scheduled), days) == (7, 7)  # a test (and a session) due each day of the week before today
