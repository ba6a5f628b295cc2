"""The patient edit page for a programme that counts visits per week (California-like): one group of days per
stretch of the plan, ticked as they are; a wrong number of days is refused beside its group with what was ticked
kept; a good choice moves the visits and says so. The clock is A_MONDAY (Monday 2 January 2090), the start day."""

from __future__ import annotations

import re
from datetime import date

import pytest

from desk.test_visits_per_week import make_programme

from helpers import A_MONDAY, sign_in

pytestmark = pytest.mark.time_machine(A_MONDAY)
BOXES = re.compile(r'<input (checked )?id="days-(plan_\d|visit_days)-\d" name="days-\2" type="checkbox" '
                   r'value="(\w+)"')


@pytest.fixture
def pid(app, personas) -> int:
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.usecases import admission

    with app.app_context():
        program = make_programme()
        cora = db.session.scalar(select(User).where(User.username == "cora"))
        return admission.enrol(display_name="Cal Page", record_number="MRN-CP", program_id=program,
                               start_on=date(2090, 1, 2), counselor_id=None, visit_days=None, portal_username=None,
                               actor=cora).patient.id


def ticked(html: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for checked, group, value in BOXES.findall(html):
        groups.setdefault(group, [])
        if checked:
            groups[group].append(value)
    return groups


def post(client, pid: int, **days: list[str]):
    data = {"form": "days", "days-version": "1", "days-from_on": "2090-01-02",
            **{f"days-{name}": value for name, value in days.items()}}
    return client.post(f"/staff/patients/{pid}/edit", data=data)


def test_each_stretch_of_the_plan_has_its_days_ticked_and_no_fixed_days_are_offered(client, pid):
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{pid}/edit").get_data(as_text=True)
    assert ticked(html) == {"plan_0": ["mon", "thu"], "plan_1": ["mon"]}
    assert "Weeks 1-12: 2 visits a week" in html and "Weeks 13-24: 1 visit a week" in html


def test_one_day_where_two_are_needed_is_refused_beside_its_group_keeping_the_ticks(client, pid):
    sign_in(client, "cora")
    html = post(client, pid, plan_0=["wed"], plan_1=["fri"]).get_data(as_text=True)
    assert re.search(r'id="days-plan_0-error">.*In weeks 1-12 the plan has 2 visits a week: choose exactly 2 days.',
                     html)
    assert ticked(html) == {"plan_0": ["wed"], "plan_1": ["fri"]}
    assert 'href="#days-plan_0"' in html  # the error summary links to the group


def test_good_days_move_the_visits_and_the_page_says_so(app, client, pid):
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, ScheduledVisit

    sign_in(client, "cora")
    response = post(client, pid, plan_0=["tue", "fri"], plan_1=["fri"])
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Visit days are now weeks 1-12: 2 a week (Tuesday, Friday); weeks 13-24: 1 a week (Friday)" in html
    with app.app_context():
        days = db.session.scalars(select(ScheduledVisit.due_on).join(Enrollment).where(
            Enrollment.patient_id == pid).order_by(ScheduledVisit.due_on)).all()
    assert days[:3] == [date(2090, 1, 3), date(2090, 1, 6), date(2090, 1, 10)] and len(days) == 36
