"""The caseload page (the desk dashboard) and a patient's record: counselors see their own patients, admins every
patient, with balances and next visits; due today, overdue, streaks and alerts; a fixed number of queries however
many patients; and who may open which record."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from desk.conftest import enrol, negative, patient, user

from helpers import sign_in


def audit_rows(app, action):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_counselor_sees_their_own_patients_with_balance_and_next_visit(client, personas, history):
    sign_in(client, "cora")
    html = client.get("/staff/").get_data(as_text=True)
    assert "<h1>Your caseload</h1>" in html
    assert "Pat Patient" in html and "MRN-001" in html and "Stimulant vouchers" in html
    assert "50 points" in html and "$12.50" in html and "2 draws waiting" in html
    assert history.next_visit.strftime("%a %d %b %Y") in html
    assert "Fri 06 Nov 2026" in html  # the last specimen, on the clinic's calendar
    assert "Olive Other" not in html


def test_an_admin_sees_every_patient_on_the_caseload_page(client, personas, history):
    sign_in(client, "ada")
    html = client.get("/staff/").get_data(as_text=True)
    assert "<h1>All patients</h1>" in html
    assert "Pat Patient" in html and "Olive Other" in html and "$2.50" in html


def test_a_counselor_without_patients_gets_a_clear_empty_state(client, app, personas):
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        accounts.create_user(username="nina", password="a long pass phrase", role="counselor", display_name="Nina")
    sign_in(client, "nina", "a long pass phrase")
    assert "No patients are assigned to you yet." in client.get("/staff/").get_data(as_text=True)


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


def test_the_caseload_costs_the_same_queries_for_one_patient_or_many(client, app, desk, personas, history):
    """More patients, whether enrolled at the desk with a result yesterday or bare enrolments with nothing recorded,
    add no query."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, Patient
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
    with app.app_context():
        for n in range(3):
            bare = Patient(display_name=f"Bare {n}", record_number=f"MRN-1{n}", counselor_id=personas.counselor)
            db.session.add(bare)
            db.session.flush()
            db.session.add(Enrollment(patient_id=bare.id, program_id=personas.program, start_on=date(2026, 11, 9)))
        db.session.commit()
    assert count() == before


def test_the_patient_page_shows_the_record_balance_visits_and_ledger(client, app, personas, history):
    sign_in(client, "cora")
    html = client.get(f"/staff/patients/{personas.patient}").get_data(as_text=True)
    assert "<h1>Pat Patient</h1>" in html and "MRN-001" in html and "Cora Counselor" in html
    assert "$12.50" in html and ">50 <" in html
    assert "Negative for stimulants, 3rd in a row: 60 points (20 + 40 bonus)" in html
    assert "Redeemed a bus pass: 35 points" in html and "-35" in html
    assert history.next_visit.strftime("%a %d %b %Y") in html and "Test: stimulants" in html
    assert html.index("Redeemed a bus pass") < html.index("1st in a row")  # newest first


def test_viewing_a_patient_page_is_audited(client, app, personas, history):
    sign_in(client, "cora")
    client.get(f"/staff/patients/{personas.patient}")
    views = audit_rows(app, "patient.view")
    assert [(v.patient_id, v.username, v.outcome.value) for v in views] == [(personas.patient, "cora", "success")]


def test_a_counselor_gets_404_for_another_counselors_patient_and_it_is_audited(client, app, personas):
    sign_in(client, "cora")
    assert client.get(f"/staff/patients/{personas.other_patient}").status_code == 404
    assert [v.outcome.value for v in audit_rows(app, "patient.view")] == ["denied"]


def test_an_unknown_patient_id_is_404(client, personas):
    sign_in(client, "cora")
    assert client.get("/staff/patients/999999").status_code == 404


def test_an_admin_may_open_any_patient(client, personas, history):
    sign_in(client, "ada")
    assert "Olive Other" in client.get(f"/staff/patients/{personas.other_patient}").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/staff/", "/staff/patients/{patient}"])
def test_a_manager_gets_403_on_the_caseload_pages(client, personas, path):
    sign_in(client, "max")
    assert client.get(path.format(patient=personas.patient)).status_code == 403


@pytest.mark.parametrize("path", ["/staff/", "/staff/patients/{patient}"])
def test_a_patient_gets_404_on_the_caseload_pages(client, personas, path):
    sign_in(client, "pat")
    assert client.get(path.format(patient=personas.patient)).status_code == 404


def test_on_postgresql_the_caseloads_ids_are_bound_as_one_array(client, app, desk, personas):
    """The balances and the visits bind the caseload's ids as one parameter, so psycopg prepares the statements
    instead of converting and the server parsing 150 parameters anew on every page (core.id_lists.InIds)."""
    from cm_tracker.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite binds an expanding IN, which costs it nothing to parse")
    from psycopg.types.numeric import Int4
    for n in range(3):
        enrol(app, desk.program, personas.counselor, name=f"Extra {n}", record=f"MRN-X{n}", start=desk.start)
    sign_in(client, "cora")
    seen: list[tuple[str, set[str]]] = []
    sent: list[tuple[str, dict[str, Any]]] = []

    def listener(_c: Any, _cur: Any, statement: str, params: dict[str, Any], *_: Any) -> None:
        seen.append((statement, set(params)))
        sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get("/staff/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    # The standings (the enrolments with their ledger sums), the visits due today, overdue and excused.
    starts = ("SELECT enrollments.id", "SELECT scheduled_visits.", "SELECT enrollments.patient_id, count",
              "SELECT excuses.")
    mine = [names for statement, names in seen if statement.startswith(starts)
            and (not statement.startswith(starts[0]) or "ledger_entries" in statement)]
    assert len([n for n in mine if {"ids", "enrollment_ids"} & n]) == 4, mine
    assert not [n for n in mine if any(name.startswith(("ids_", "enrollment_ids_")) for name in n)]  # expanding
    # Sent as the integer[] they are compared with, not as the smallint[] psycopg makes of small ints, which a
    # generic plan casts again on every row it tests (core.id_lists.IdArray).
    lists = [value for _statement, params in sent for name, value in params.items()
             if name in {"ids", "enrollment_ids"}]
    assert lists and all(ids and all(isinstance(i, Int4) for i in ids) for ids in lists), lists


def test_on_sqlite_the_caseloads_ids_are_a_plain_in_that_the_patient_indexes_serve(client, app, desk, personas):
    """On SQLite (no native booleans) an id list must be sent as `column IN (...)`, never `column IN (...) = 1`, which
    no index serves: the standings then scanned every ledger entry of the clinic for one patient's balance."""
    from cm_tracker.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL binds one array (the test above)")
    sign_in(client, "cora")
    seen: list[tuple[str, Any]] = []
    listener = lambda _c, _cur, statement, params, *_: seen.append((statement, params))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get("/staff/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    standings = [(s, p) for s, p in seen if s.startswith("SELECT enrollments.") and "ledger_entries" in s]
    assert standings and all(") = 1" not in s for s, _p in standings), standings
    with engine.connect() as conn:
        statement, params = standings[0]
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params))
    assert "SEARCH ledger_entries USING INDEX ix_ledger_entries_patient_id" in plan, plan


def test_one_patients_standing_is_read_with_one_integer_and_is_that_patients_standing_in_a_caseload(app, desk,
                                                                                                     personas):
    """A single patient's standings statement (every balance, desk result and portal page) binds the id as one
    integer, not a list, so PostgreSQL keeps one plan for it (core.id_lists.InIds); and it reads the same standing
    as the caseload's statement does for that patient."""
    from cm_tracker.extensions import db
    from cm_tracker.services.core.balances import standings
    from cm_tracker.services.usecases.specimens import record_specimen

    other, _ = enrol(app, desk.program, personas.counselor, name="Other Desk", record="MRN-D2", start=desk.start)
    with app.app_context():
        for back in (3, 2, 1):
            record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=back)),
                            actor=user(patient(desk.patient).counselor_id))
        seen: list[Any] = []
        listener = lambda _c, _cur, statement, params, *_: seen.append(params)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            alone = standings([desk.patient])[desk.patient]
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        bound = [value for params in seen for value in (params.values() if isinstance(params, dict) else params)]
        assert desk.patient in bound and not [v for v in bound if isinstance(v, list | tuple)], bound
        among = standings([other, desk.patient])[desk.patient]
        assert alone.balance == among.balance and alone.balance.points > 0
        assert alone.enrollment is not None and among.enrollment is not None
        assert alone.enrollment.id == among.enrollment.id and alone.states == among.states and alone.states


def _row_of(html: str, name: str) -> str:
    """The caseload table's row of the patient named `name`."""
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return next(row for row in body.split("<tr>") if f">{name}</a>" in row)


def test_the_next_visit_is_the_first_from_today_of_an_active_enrollment(client, app, desk, personas):
    """Today's visit is still to come, so it is the next one (yesterday's is not); once the enrollment has ended,
    its later visits are no longer due and the caseload says none is scheduled."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment
    from cm_tracker.services.usecases.admission import end_enrollment

    row = _row_of(_html(client), "Dana Desk")
    assert f'<td data-label="Next visit">{desk.today:%a %d %b %Y}</td>' in row, row
    with app.app_context():
        end_enrollment(db.session.get(Enrollment, desk.enrollment), "discharged", desk.today, "Moved away",
                       actor=user(personas.counselor))
        db.session.commit()
    row = _row_of(client.get("/staff/").get_data(as_text=True), "Dana Desk")
    assert '<td data-label="Next visit">None scheduled</td>' in row, row
