"""The desk dashboard: due today, overdue, balances, streaks and alerts, at a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from desk.conftest import enrol, negative, patient, user

from helpers import sign_in


def _html(client) -> str:
    sign_in(client, "cora")
    return client.get("/staff/").get_data(as_text=True)


def test_todays_test_is_due_with_a_record_button(client, app, desk):
    html = _html(client)
    assert "Due today" in html and f"/staff/patients/{desk.patient}/visits/" in html
    assert "Record test<span class=\"visually-hidden\"> for Dana Desk" in html


def test_past_unrecorded_visits_are_overdue(client, app, desk):
    html = _html(client)
    assert "14 visits unrecorded since" in html  # a test and a session each day of the past week


def test_the_streak_shows_the_current_run(client, app, desk):
    from cm_tracker.services.usecases.specimens import record_specimen

    with app.app_context():
        for back in (3, 2, 1):
            record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=back)),
                            actor=user(patient(desk.patient).counselor_id))
    assert "stimulants: 3 in a row" in _html(client)


def test_a_missed_test_yesterday_is_an_alert(client, app, desk):
    with app.app_context():
        from cm_tracker.services.usecases.visits import close_day

        close_day(desk.today - timedelta(days=1))
    assert "Dana Desk missed a test yesterday." in _html(client)


def test_a_negative_balance_after_a_correction_is_an_alert(client, app, desk):
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry

    with app.app_context():
        db.session.add(LedgerEntry(patient_id=desk.patient, enrollment_id=desk.enrollment, kind=EntryKind.ADJUSTMENT,
                                   points=-15, reason="Correction"))
        db.session.commit()
    assert "Dana Desk holds -15 points after a correction" in _html(client)


def test_being_close_to_the_cap_is_an_alert(client, app, desk):
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry, Program

    with app.app_context():
        db.session.get(Program, desk.program).cap_cents = 1000
        db.session.add(LedgerEntry(patient_id=desk.patient, enrollment_id=desk.enrollment, kind=EntryKind.AWARD,
                                   points=36, value_cents=900, reason="Award"))
        db.session.commit()
    assert "Dana Desk has used $9.00 of the $10.00 cap" in _html(client)


def test_low_prize_stock_is_an_alert(client, app, desk):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, RewardKind, StockMovement, StockMovementKind

    with app.app_context():
        mug = Reward(kind=RewardKind.PRIZE, name="Travel mug", tier="small", value_cents=100, low_stock_threshold=3)
        db.session.add(mug)
        db.session.flush()
        db.session.add(StockMovement(reward_id=mug.id, kind=StockMovementKind.RESTOCK, quantity=2))
        db.session.commit()
    assert "Low stock: Travel mug (2 left; restock at 3)." in _html(client)


def test_the_dashboard_costs_the_same_queries_for_one_patient_or_many(client, app, desk, personas):
    from cm_tracker.extensions import db
    from cm_tracker.services.usecases.specimens import record_specimen

    sign_in(client, "cora")

    def count() -> int:
        seen: list[str] = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/staff/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    with app.app_context():
        record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=1)),
                        actor=user(personas.counselor))
    before = count()
    for n in range(4):
        pid, _ = enrol(app, desk.program, personas.counselor, name=f"Extra {n}", record=f"MRN-X{n}",
                       start=desk.start)
        with app.app_context():
            record_specimen(patient(pid), negative(desk.today - timedelta(days=1)), actor=user(personas.counselor))
    assert count() == before
