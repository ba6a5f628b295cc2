"""Visit plans that count visits per week (California-like: two a week in weeks 1-12, one a week in weeks 13-24):
each patient gets the plan's usual days, the clinic chooses other days per patient and per stretch of weeks, and
the visits follow; a choice that does not fit the plan is refused beside its field.

Fixed dates: a 24-week programme from Monday 2 March 2026 (week 3 is 16-22 March, week 15 is 8-14 June), changed
on Monday 9 March (week 2) from Wednesday 11 March.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from desk.conftest import patient, user

START, TODAY, FROM = date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 11)
WEEK_3, WEEK_15 = date(2026, 3, 16), date(2026, 6, 8)
CALIFORNIA = [{"from_week": 1, "to_week": 12, "per_week": 2}, {"from_week": 13, "to_week": 24, "per_week": 1}]


def make_programme(plan=CALIFORNIA, visit_days=("mon", "thu"), name: str = "California-like") -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.usecases.programs import create_program

    data = {"name": name, "point_value_cents": 25, "weeks": 24, "visit_days": list(visit_days), "visit_plan": plan,
            "cap_cents": 59900, "cap_window": "episode", "effective_on": "2026-01-01",
            "targets": [{"key": "stimulants", "kind": "abstinence", "analytes": ["cocaine", "methamphetamine"],
                         "schedule": {"kind": "escalating", "start": 40, "step": 6, "max": 106,
                                      "escalate_per": "week"}}]}
    admin = db.session.scalar(select(User).where(User.username == "ada"))
    return create_program(data, actor=admin, today=TODAY).id


def enrol(program_id: int, record: str = "MRN-C1") -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.usecases import admission

    cora = db.session.scalar(select(User).where(User.username == "cora"))
    return admission.enrol(display_name="Cal Weekly", record_number=record, program_id=program_id, start_on=START,
                           counselor_id=None, visit_days=None, portal_username=None, actor=cora).patient.id


@pytest.fixture
def pid(app, ctx, personas) -> int:
    return enrol(make_programme())


def change(pid: int, *, visit_plan=None, visit_days=None, from_on: date = FROM, today: date = TODAY):
    from cm_tracker.services.usecases.visit_schedule import change_visit_days

    record = patient(pid)
    return change_visit_days(record, visit_days=visit_days, visit_plan=visit_plan, from_on=from_on,
                             version=record.version, actor=user(record.counselor_id), today=today)


def refusal(pid: int, **kw) -> dict[str, str]:
    from cm_tracker.services.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        change(pid, **kw)
    return caught.value.fields


def due(pid: int) -> list[date]:
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, ScheduledVisit

    return list(db.session.scalars(select(ScheduledVisit.due_on).join(Enrollment).where(
        Enrollment.patient_id == pid).order_by(ScheduledVisit.due_on)))


def week(pid: int, first: date) -> list[str]:
    return [d.strftime("%a %d %b") for d in due(pid) if first <= d < first + timedelta(days=7)]


TUE_FRI_THEN_FRI = [{"from_week": 1, "to_week": 12, "days": ["tue", "fri"]},
                    {"from_week": 13, "to_week": 24, "days": ["fri"]}]


def test_the_programme_stores_visits_per_week_with_the_usual_days(app, ctx, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    program = db.session.get(Program, make_programme())
    assert program.visit_plan == [{"from_week": 1, "to_week": 12, "per_week": 2, "days": ["mon", "thu"]},
                                  {"from_week": 13, "to_week": 24, "per_week": 1, "days": ["mon"]}]


def test_without_enough_programme_days_the_usual_days_are_spread_through_the_week(app, ctx, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    program = db.session.get(Program, make_programme(visit_days=("wed",)))
    assert [p["days"] for p in program.visit_plan] == [["mon", "thu"], ["wed"]]


def test_a_new_patient_has_two_visits_in_week_3_and_one_in_week_15(pid):
    assert (week(pid, WEEK_3), week(pid, WEEK_15)) == (["Mon 16 Mar", "Thu 19 Mar"], ["Mon 08 Jun"])
    assert len(due(pid)) == 36


def test_the_patients_own_days_move_the_visits_of_week_3_and_week_15(pid):
    change(pid, visit_plan=TUE_FRI_THEN_FRI)
    assert (week(pid, WEEK_3), week(pid, WEEK_15)) == (["Tue 17 Mar", "Fri 20 Mar"], ["Fri 12 Jun"])
    assert len(due(pid)) == 36


def test_the_week_of_the_change_keeps_its_two_visits(pid):
    change(pid, visit_plan=TUE_FRI_THEN_FRI)  # Monday the 9th stays; Tuesday the 10th is before the change
    assert week(pid, TODAY) == ["Mon 09 Mar", "Fri 13 Mar"]


def test_a_change_early_in_a_week_fills_only_what_the_week_still_needs(pid):
    change(pid, visit_plan=TUE_FRI_THEN_FRI, from_on=date(2026, 3, 10))
    assert week(pid, TODAY) == ["Mon 09 Mar", "Tue 10 Mar"]


def test_a_stretch_left_out_keeps_its_days(pid):
    done = change(pid, visit_plan=[{"from_week": 13, "to_week": 24, "days": ["wed"]}])
    assert (week(pid, WEEK_3), week(pid, WEEK_15)) == (["Mon 16 Mar", "Thu 19 Mar"], ["Wed 10 Jun"])
    assert [p["days"] for p in done.enrollment.visit_plan] == [["mon", "thu"], ["wed"]]


def test_the_change_is_audited_with_the_plan_days_before_and_after(pid):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    change(pid, visit_plan=TUE_FRI_THEN_FRI)
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "enrollment.visit_days"))
    assert (row.detail["plan_before"], row.detail["plan_after"]) == ([["mon", "thu"], ["mon"]],
                                                                     [["tue", "fri"], ["fri"]])


def test_one_day_in_weeks_that_need_two_is_refused(pid):
    fields = refusal(pid, visit_plan=[{"from_week": 1, "to_week": 12, "days": ["tue"]}])
    assert fields == {"visit_plan.0.days": "In weeks 1-12 the plan has 2 visits a week: choose exactly 2 days."}


def test_two_days_in_weeks_that_need_one_is_refused(pid):
    fields = refusal(pid, visit_plan=[{"from_week": 13, "to_week": 24, "days": ["tue", "fri"]}])
    assert fields == {"visit_plan.0.days": "In weeks 13-24 the plan has 1 visit a week: choose exactly 1 day."}


def test_an_unknown_day_in_a_stretch_is_refused(pid):
    fields = refusal(pid, visit_plan=[{"from_week": 1, "to_week": 12, "days": ["tue", "funday"]}])
    assert fields == {"visit_plan.0.days": "Use mon, tue, wed, thu, fri, sat or sun."}


def test_weeks_that_are_not_a_stretch_of_the_plan_are_refused(pid):
    fields = refusal(pid, visit_plan=[{"from_week": 1, "to_week": 6, "days": ["tue", "fri"]}])
    assert fields == {"visit_plan.0": "Not a stretch of this programme's visit plan; it has weeks 1-12: 2 a week "
                                      "(Monday, Thursday); weeks 13-24: 1 a week (Monday)."}


def test_a_stretch_already_over_cannot_change(pid):
    later = date(2026, 6, 8)  # week 15
    fields = refusal(pid, visit_plan=TUE_FRI_THEN_FRI, from_on=later, today=later)
    assert fields == {"visit_plan.0.days": "The visits of weeks 1-12 are over by then and stay as they were."}


def test_a_refused_choice_leaves_the_visits_alone(pid):
    before = due(pid)
    refusal(pid, visit_plan=[{"from_week": 1, "to_week": 12, "days": ["tue"]}])
    assert due(pid) == before


def test_fixed_days_alone_are_refused_where_the_plan_counts_every_week(pid):
    assert refusal(pid, visit_days=["tue", "fri"])["visit_days"].startswith(
        "The programme's visit plan counts the visits of every week from this date on (weeks 1-12: 2 a week")


def test_a_programme_without_a_plan_refuses_plan_days(app, ctx, personas):
    pid = enrol(make_programme(plan=None, visit_days=("mon", "wed", "fri"), name="Three a week"), "MRN-T1")
    assert refusal(pid, visit_plan=TUE_FRI_THEN_FRI)["visit_plan"] == \
        "This programme has no visit plan: choose the patient's visit days instead."


def test_a_later_change_to_the_programmes_plan_does_not_move_a_current_patient(app, ctx, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    program_id = make_programme()
    pid = enrol(program_id)
    program = db.session.get(Program, program_id)
    program.visit_plan = [{"from_week": 1, "to_week": 24, "per_week": 1, "days": ["wed"]}]
    db.session.commit()
    change(pid, visit_plan=[{"from_week": 13, "to_week": 24, "days": ["fri"]}])
    assert (week(pid, WEEK_3), week(pid, WEEK_15)) == (["Mon 16 Mar", "Thu 19 Mar"], ["Fri 12 Jun"])


def test_the_plan_as_the_enrollment_gives_it_may_be_sent_back_with_new_days(pid):
    sent = [{"from_week": 1, "to_week": 12, "per_week": 2, "days": ["wed", "sat"]}]
    change(pid, visit_plan=sent)
    assert week(pid, WEEK_3) == ["Wed 18 Mar", "Sat 21 Mar"]


def test_the_visits_a_week_cannot_change_with_the_days(pid):
    fields = refusal(pid, visit_plan=[{"from_week": 1, "to_week": 12, "per_week": 3, "days": ["mon", "wed", "fri"]}])
    assert fields == {"visit_plan.0.per_week": "The programme has 2 a week in weeks 1-12; the patient's days cannot "
                                               "change that."}
