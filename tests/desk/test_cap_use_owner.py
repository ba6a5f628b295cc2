"""Cap use has one owner (core.balances): the budget report shows each patient the cap use their balance shows, and
"near the cap" is the programme's own share on the dashboard and in the budget report alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk.conftest import moment

from helpers import sign_in


def _entry(enrollment_id: int, patient_id: int, cents: int, on) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry

    db.session.add(LedgerEntry(patient_id=patient_id, enrollment_id=enrollment_id, kind=EntryKind.AWARD,
                               points=cents // 25, value_cents=cents, reason="Award", occurred_at=moment(on, 12)))


def _budget(program_id: int, today):
    from cm_tracker.services.queries.reports import budget, outcomes

    program, scope = outcomes.make_scope(program_id, None, None, None, today)
    return budget.budget_report(program, scope, today)


@pytest.mark.parametrize("window", ["episode", "calendar_year", "rolling_365"])
def test_a_re_enrolled_patient_has_the_same_cap_use_in_the_budget_report_as_in_the_balance(app, desk, window):
    from cm_tracker.extensions import db
    from cm_tracker.models import CapWindow, Enrollment, EnrollmentStatus, Program
    from cm_tracker.services.core.balances import balance_of

    with app.app_context():
        db.session.get(Program, desk.program).cap_window = CapWindow(window)
        first = Enrollment(patient_id=desk.patient, program_id=desk.program, start_on=desk.start - timedelta(days=30),
                           end_on=desk.start - timedelta(days=10), status=EnrollmentStatus.COMPLETED,
                           visit_days=["mon"])
        db.session.add(first)
        db.session.flush()
        _entry(first.id, desk.patient, 600, desk.start - timedelta(days=20))
        _entry(desk.enrollment, desk.patient, 300, desk.today - timedelta(days=1))
        db.session.commit()
        balance = balance_of(desk.patient, desk.today)
        uses = {u.patient_id: u.used_cents for u in _budget(desk.program, desk.today).cap_uses}
    assert balance.cap is not None
    assert uses[desk.patient] == balance.cap.used_cents
    if window == "episode":
        assert balance.cap.used_cents == 300


@pytest.mark.parametrize(("near_cap_percent", "is_near"), [(60, True), (70, False)])
def test_the_dashboard_and_the_budget_report_use_the_programmes_near_cap_share(client, app, desk, near_cap_percent,
                                                                              is_near):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program

    with app.app_context():
        program = db.session.get(Program, desk.program)
        program.cap_cents, program.near_cap_percent = 1000, near_cap_percent
        _entry(desk.enrollment, desk.patient, 650, desk.today - timedelta(days=1))
        db.session.commit()
        report = _budget(desk.program, desk.today)
    assert ([u.patient_id for u in report.near_cap] == [desk.patient]) is is_near
    assert report.near_cap_percent == near_cap_percent
    sign_in(client, "cora")
    html = client.get("/staff/").get_data(as_text=True)
    assert ("Dana Desk has used $6.50 of the $10.00 cap" in html) is is_near
