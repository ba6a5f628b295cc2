"""Missed and excused visits: the day-closing job, excuses and closures before and after the fact."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from desk.conftest import audit_actions, negative, patient, user, visit_on

from helpers import api_token, sign_in


def _specimens():
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    return list(db.session.scalars(select(Specimen).order_by(Specimen.collected_at)))


def _marks():
    from cm_tracker.extensions import db
    from cm_tracker.models import AttendanceRecord

    return list(db.session.scalars(select(AttendanceRecord).order_by(AttendanceRecord.occurred_at)))


def _points(patient_id):
    from cm_tracker.services.core.balances import balance_of

    return balance_of(patient_id).points


def test_closing_a_day_marks_its_unrecorded_test_missed_and_its_session_unexcused(app, ctx, desk):
    from cm_tracker.services.usecases.visits import close_day

    yesterday = desk.today - timedelta(days=1)
    done = close_day(yesterday)
    assert (done.missed, done.excused, done.sessions_unexcused, done.sessions_excused) == (1, 0, 1, 0)
    assert [(str(s.status), s.visit_id) for s in _specimens()] == [("missed", visit_on(desk.enrollment, yesterday))]
    assert [str(m.status) for m in _marks()] == ["unexcused"]
    assert "visits.close_day" in audit_actions()


def test_closing_the_same_day_again_does_nothing(app, ctx, desk):
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry
    from cm_tracker.services.usecases.visits import close_day

    yesterday = desk.today - timedelta(days=1)
    close_day(yesterday)
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    again = close_day(yesterday)
    assert (again.missed, again.excused, again.sessions_unexcused) == (0, 0, 0)
    assert len(_specimens()) == 1 and db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries


def test_a_missed_day_resets_the_streak(app, ctx, desk):
    from cm_tracker.services.usecases.specimens import record_specimen
    from cm_tracker.services.usecases.visits import close_day

    counselor = user(patient(desk.patient).counselor_id)
    for back in (4, 3):
        record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=back)), actor=counselor)
    close_day(desk.today - timedelta(days=2))
    later = record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=1)), actor=counselor)
    assert [e.points for e in later.awards] == [10]


def test_a_day_excused_in_advance_is_closed_as_excused(app, ctx, desk):
    from cm_tracker.services.usecases.visits import close_day, excuse_day

    yesterday = desk.today - timedelta(days=1)
    counselor = user(patient(desk.patient).counselor_id)
    excuse = excuse_day(patient(desk.patient), on=yesterday, reason="Court date", actor=counselor)
    assert excuse.corrected == 0
    done = close_day(yesterday)
    assert (done.missed, done.excused, done.sessions_excused) == (0, 1, 1)
    assert [str(s.status) for s in _specimens()] == ["excused"]


def test_a_clinic_closure_excuses_every_visit_that_day(app, ctx, desk):
    from cm_tracker.services.usecases.visits import close_clinic, close_day

    yesterday = desk.today - timedelta(days=1)
    close_clinic(on=yesterday, reason="Snow day", actor=user(patient(desk.patient).counselor_id))
    assert close_day(yesterday).excused == 1
    assert "Snow day" in _specimens()[0].note


def test_a_late_excuse_turns_the_missed_test_into_an_excused_one_and_posts_the_adjustment(app, ctx, desk):
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry
    from cm_tracker.services.usecases.specimens import record_specimen
    from cm_tracker.services.usecases.visits import close_day, excuse_day

    counselor = user(patient(desk.patient).counselor_id)
    for back in (4, 3):
        record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=back)), actor=counselor)
    close_day(desk.today - timedelta(days=2))
    record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=1)), actor=counselor)
    assert _points(desk.patient) == 10 + 15 + 10
    done = excuse_day(patient(desk.patient), on=desk.today - timedelta(days=2), reason="Hospital stay",
                      actor=counselor)
    assert done.corrected == 2  # the test and the group session of that day
    assert [str(s.status) for s in _specimens()] == ["final", "final", "excused", "final"]
    adjustments = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.ADJUSTMENT)).all()
    assert [a.points for a in adjustments] == [50] and "Hospital stay" in adjustments[0].reason
    assert _points(desk.patient) == 10 + 15 + 60  # the third negative in a row, with its bonus


def test_a_late_clinic_closure_corrects_every_patients_missed_test(app, ctx, desk):
    from cm_tracker.services.usecases.visits import close_clinic, close_day

    yesterday = desk.today - timedelta(days=1)
    close_day(yesterday)
    done = close_clinic(on=yesterday, reason="Power cut", actor=user(patient(desk.patient).counselor_id))
    assert done.corrected == 2 and [str(s.status) for s in _specimens()] == ["excused"]


def test_visits_after_the_enrollment_ended_are_never_closed(app, ctx, desk):
    from cm_tracker.services.usecases.admission import end_enrollment
    from cm_tracker.services.usecases.visits import close_day

    counselor = user(patient(desk.patient).counselor_id)
    end_enrollment(patient(desk.patient).enrollments[0], "discharged", desk.today - timedelta(days=3),
                   "Moved away", actor=counselor)
    assert close_day(desk.today - timedelta(days=1)).missed == 0
    assert _specimens() == []


def test_today_cannot_be_closed(app, ctx, desk):
    import pytest

    from cm_tracker.services.core.errors import ValidationFailed
    from cm_tracker.services.usecases.visits import close_day

    with pytest.raises(ValidationFailed):
        close_day(desk.today)


def test_the_command_closes_yesterday_by_default_and_prints_a_summary(app, desk):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["visits", "close-day"])
    assert first.exit_code == 0, first.output
    assert f"close-day {desk.today - timedelta(days=1)}: 1 test missed, 0 tests excused, 1 session unexcused" \
        in first.output
    second = runner.invoke(args=["visits", "close-day"])
    assert second.exit_code == 0 and ": 0 tests missed, 0 tests excused, 0 sessions unexcused" in second.output


def test_the_command_takes_a_date(app, desk):
    day = desk.today - timedelta(days=3)
    result = app.test_cli_runner().invoke(args=["visits", "close-day", day.isoformat()])
    assert result.exit_code == 0 and f"close-day {day}: 1 test missed" in result.output


def test_an_excuse_page_converts_a_missed_day_and_says_so(client, app, desk):
    with app.app_context():
        from cm_tracker.services.usecases.visits import close_day

        close_day(desk.today - timedelta(days=1))
    sign_in(client, "cora")
    response = client.post(f"/staff/patients/{desk.patient}/excuses/new", follow_redirects=True,
                           data={"on": (desk.today - timedelta(days=1)).isoformat(), "reason": "Funeral"})
    assert "2 missed record(s) corrected to excused" in response.get_data(as_text=True)
    with app.app_context():
        assert "excuse.create" in audit_actions(desk.patient)


def test_an_excuse_without_a_reason_is_refused_beside_the_field(client, desk):
    sign_in(client, "cora")
    html = client.post(f"/staff/patients/{desk.patient}/excuses/new",
                       data={"on": desk.today.isoformat(), "reason": ""}).get_data(as_text=True)
    assert 'id="reason-error"' in html


def test_the_closures_page_is_for_admins(client, desk):
    sign_in(client, "cora")
    assert client.get("/staff/closures").status_code == 403


def test_an_admin_records_a_closure_on_the_page(client, app, desk):
    sign_in(client, "ada")
    day = desk.today + timedelta(days=2)
    html = client.post("/staff/closures", data={"on": day.isoformat(), "reason": "Staff training"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Staff training" in html and "No visit needed correcting" in html


def test_the_api_excuses_a_missed_day_with_its_adjustments(client, app, desk):
    with app.app_context():
        from cm_tracker.services.usecases.visits import close_day

        close_day(desk.today - timedelta(days=1))
    headers = api_token(client, "cora")
    response = client.post(f"/api/v1/patients/{desk.patient}/excuses", headers=headers,
                           json={"on": (desk.today - timedelta(days=1)).isoformat(), "reason": "Clinic bus broke"})
    body = response.get_json()
    assert response.status_code == 201 and body["corrected"] == 2 and body["in_advance"] is False
    again = client.post(f"/api/v1/patients/{desk.patient}/excuses", headers=headers,
                        json={"on": (desk.today - timedelta(days=1)).isoformat(), "reason": "Twice"})
    assert again.status_code == 409


def test_the_api_refuses_an_excuse_without_a_reason(client, desk):
    response = client.post(f"/api/v1/patients/{desk.patient}/excuses", headers=api_token(client, "cora"),
                           json={"on": desk.today.isoformat()})
    assert response.status_code == 422 and "reason" in response.get_json()["error"]["fields"]
