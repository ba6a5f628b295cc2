"""Changing an enrolled patient's visit days from a chosen date: the open future visits are regenerated for the new
days, visits with something attached stay, and nothing already recorded or earned changes.

The clinic's "today" is a parameter of the service, so these tests use fixed dates in the past: a four-week
programme from Monday 2 March 2026 with tests and group sessions on Mondays and Thursdays, changed on Monday 9 March.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from desk.conftest import make_program, moment, negative, patient, user, visit_on

START, TODAY, FROM = date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 11)


def march(*days: int) -> list[date]:
    return [date(2026, 3, d) for d in days]


@pytest.fixture
def pid(app, ctx, personas) -> int:
    """A patient of Cora's caseload, enrolled from START on Mondays and Thursdays."""
    return _enrol()


def _enrol(visit_plan=None) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import Program, User
    from cm_tracker.services.usecases import admission as enrolment

    program = db.session.get(Program, make_program(f"Days {visit_plan is not None}"))
    program.visit_plan = visit_plan
    db.session.commit()
    cora = db.session.scalar(select(User).where(User.username == "cora"))
    done = enrolment.enrol(display_name="Vic Visits", record_number=f"MRN-V{program.id}", program_id=program.id,
                           start_on=START, counselor_id=None, visit_days=["mon", "thu"], portal_username=None,
                           actor=cora)
    return done.patient.id


def change(pid: int, days: list[str], *, from_on: date = FROM, version: int | None = None, today: date = TODAY):
    from cm_tracker.services.usecases.visit_schedule import change_visit_days

    record = patient(pid)
    return change_visit_days(record, visit_days=days, from_on=from_on, actor=user(record.counselor_id),
                             version=record.version if version is None else version, today=today)


def due(pid: int, kind: str = "test") -> list[date]:
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, ScheduledVisit

    return list(db.session.scalars(select(ScheduledVisit.due_on).join(Enrollment).where(
        Enrollment.patient_id == pid, ScheduledVisit.kind == kind).order_by(ScheduledVisit.due_on)))


def refusal(pid: int, days: list[str], **kw) -> dict[str, str]:
    from cm_tracker.services.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        change(pid, days, **kw)
    return caught.value.fields


def test_the_test_visits_from_the_chosen_day_move_to_the_new_days(pid):
    change(pid, ["tue", "fri"])
    assert due(pid) == march(2, 5, 9, 13, 17, 20, 24, 27)


def test_the_group_sessions_move_with_the_tests(pid):
    change(pid, ["tue", "fri"])
    assert due(pid, "session") == march(2, 5, 9, 13, 17, 20, 24, 27)


def test_the_change_says_how_many_visits_went_and_came_and_what_comes_next(pid):
    done = change(pid, ["tue", "fri"])
    assert (done.removed, done.added) == (10, 10)
    assert [(v.due_on, str(v.kind)) for v in done.upcoming] == [
        (date(2026, 3, 13), "session"), (date(2026, 3, 13), "test"), (date(2026, 3, 17), "session"),
        (date(2026, 3, 17), "test"), (date(2026, 3, 20), "session"), (date(2026, 3, 20), "test")]


def test_the_new_days_are_stored_on_the_enrollment(pid):
    done = change(pid, ["fri", "tue", "tue"])
    assert done.enrollment.visit_days == ["tue", "fri"]


def test_a_visit_with_a_recorded_specimen_is_kept(pid):
    from cm_tracker.services.usecases.specimens import record_specimen

    record_specimen(patient(pid), negative(date(2026, 3, 12), hour=10), actor=user(patient(pid).counselor_id))
    change(pid, ["tue", "fri"])
    assert due(pid) == march(2, 5, 9, 12, 13, 17, 20, 24, 27)


def test_a_visit_on_an_excused_day_is_kept(pid):
    from cm_tracker.services.usecases.visits import excuse_day

    excuse_day(patient(pid), on=date(2026, 3, 19), reason="Court date", actor=user(patient(pid).counselor_id))
    change(pid, ["tue", "fri"])
    assert due(pid) == march(2, 5, 9, 13, 17, 19, 20, 24, 27)


def test_a_visit_an_excuse_names_is_kept(pid):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, Excuse

    enrollment = db.session.scalar(select(Enrollment.id).where(Enrollment.patient_id == pid))
    db.session.add(Excuse(enrollment_id=enrollment, excused_on=date(2026, 3, 10), reason="Moved",
                          visit_id=visit_on(enrollment, date(2026, 3, 16))))
    db.session.commit()
    change(pid, ["tue", "fri"])
    assert date(2026, 3, 16) in due(pid)


def test_a_kept_visit_on_one_of_the_new_days_is_not_scheduled_twice(pid):
    from cm_tracker.services.usecases.specimens import record_specimen

    record_specimen(patient(pid), negative(date(2026, 3, 12), hour=10), actor=user(patient(pid).counselor_id))
    change(pid, ["thu", "fri"])
    assert due(pid) == march(2, 5, 9, 12, 13, 19, 20, 26, 27)


def test_open_visits_the_new_days_keep_are_left_as_they_were(pid):

    enrollment = patient(pid).enrollments[0].id
    thursday = visit_on(enrollment, date(2026, 3, 19))
    done = change(pid, ["thu", "fri"])
    assert visit_on(enrollment, date(2026, 3, 19)) == thursday and (done.removed, done.added) == (4, 6)


def test_a_visit_plan_keeps_its_own_days_in_its_weeks(app, ctx, personas):
    pid = _enrol(visit_plan=[{"from_week": 3, "to_week": 4, "days": ["wed"]}])
    change(pid, ["tue", "fri"])
    assert due(pid) == march(2, 5, 9, 13, 18, 25)


def test_days_that_a_visit_plan_overrides_everywhere_are_refused(app, ctx, personas):
    pid = _enrol(visit_plan=[{"from_week": 1, "to_week": 4, "days": ["wed"]}])
    assert "visit plan" in refusal(pid, ["tue", "fri"])["visit_days"]


def test_a_day_before_today_is_refused(pid):
    assert refusal(pid, ["tue"], from_on=date(2026, 3, 8))["from"].startswith("Choose today (Mon 09 Mar 2026)")


def test_today_is_accepted(pid):
    change(pid, ["tue"], from_on=TODAY)
    assert due(pid) == march(2, 5, 10, 17, 24)


def test_a_day_after_the_programme_ends_is_refused(pid):
    assert refusal(pid, ["tue"], from_on=date(2026, 3, 30))["from"] == \
        "The enrollment ends on Sun 29 Mar 2026; choose a day up to then."


def test_no_day_at_all_is_refused(pid):
    assert refusal(pid, [])["visit_days"] == "Choose at least one visit day."


def test_an_unknown_day_is_refused(pid):
    assert refusal(pid, ["tue", "funday"])["visit_days"] == "Use mon, tue, wed, thu, fri, sat or sun."


def test_a_refused_change_leaves_the_visits_alone(pid):
    refusal(pid, ["tue", "funday"])
    assert due(pid) == march(2, 5, 9, 12, 16, 19, 23, 26)


def test_a_stale_version_is_refused_and_changes_nothing(pid):
    from cm_tracker.services.core.errors import Conflict

    with pytest.raises(Conflict) as caught:
        change(pid, ["tue"], version=patient(pid).version + 1)
    assert caught.value.code == "stale_version"
    assert due(pid) == march(2, 5, 9, 12, 16, 19, 23, 26)


def test_the_patients_version_goes_up(pid):
    change(pid, ["tue"])
    assert patient(pid).version == 2


def test_an_ended_enrollment_cannot_change_its_days(pid):
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.admission import end_enrollment

    end_enrollment(patient(pid).enrollments[0], "discharged", date(2026, 3, 6), "Moved away",
                   actor=user(patient(pid).counselor_id))
    with pytest.raises(Conflict) as caught:
        change(pid, ["tue"])
    assert caught.value.code == "not_enrolled"


def test_the_change_is_audited_with_the_days_before_and_after(pid):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    change(pid, ["tue", "fri"])
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "enrollment.visit_days"))
    assert (row.patient_id, row.username) == (pid, "cora")
    assert row.detail == {"before": ["mon", "thu"], "after": ["tue", "fri"], "from": "2026-03-11",
                          "removed": 10, "added": 10, "version": 2}


def test_the_ledger_and_recorded_results_are_untouched(pid):
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry, Specimen
    from cm_tracker.services.usecases.specimens import record_specimen

    for day in (2, 5, 9):
        record_specimen(patient(pid), negative(date(2026, 3, day), hour=10), actor=user(patient(pid).counselor_id))
    rows = lambda model: [(r.id, getattr(r, "points", None), getattr(r, "visit_id", None))  # noqa: E731
                          for r in db.session.scalars(select(model).order_by(model.id))]
    ledger, specimens = rows(LedgerEntry), rows(Specimen)
    change(pid, ["tue", "fri"], from_on=TODAY)
    db.session.expire_all()
    assert (rows(LedgerEntry), rows(Specimen)) == (ledger, specimens) and len(ledger) == 3


def test_the_day_closing_job_does_not_mark_a_removed_day_missed(app, pid):
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    change(pid, ["tue", "fri"])
    result = app.test_cli_runner().invoke(args=["visits", "close-day", "2026-03-12"])
    assert result.exit_code == 0, result.output
    assert "0 tests missed" in result.output and "0 sessions unexcused" in result.output
    assert db.session.scalar(select(Specimen.id).where(Specimen.collected_at >= moment(date(2026, 3, 12)))) is None


def test_the_day_closing_job_marks_a_new_day_missed(app, pid):
    change(pid, ["tue", "fri"])
    result = app.test_cli_runner().invoke(args=["visits", "close-day", "2026-03-13"])
    assert "1 test missed" in result.output and "1 session unexcused" in result.output

