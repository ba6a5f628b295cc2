"""Concurrent writers leave an intact chain, and on PostgreSQL writers of the audit trail do not wait for each other:
each takes a lane no other transaction holds (services/core/chain.py)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from helpers import in_threads


def _on_postgres(app) -> bool:
    return str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql")


def test_audit_rows_written_by_many_threads_at_once_leave_an_intact_chain(app, personas, verify):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent
    from cm_tracker.services.usecases.access_log import log_now

    def work(i: int) -> None:
        for n in range(5):
            log_now("test.read", patient_id=personas.patient, detail={"thread": i, "n": n})

    outcomes = in_threads(app, 6, work)
    assert [o for o in outcomes if o is not None] == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "test.read")) == 30
        lanes = db.session.scalar(select(func.count(func.distinct(AuditEvent.chain_lane))))
    assert lanes >= (2 if _on_postgres(app) else 1)
    assert verify() == []


def test_ledger_writes_of_several_patients_at_once_leave_an_intact_chain(app, personas, verify):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.adjustments import post_adjustment

    def work(i: int) -> None:
        patient = personas.patient if i % 2 else personas.other_patient
        for _ in range(3):
            post_adjustment(db.session.get(Patient, patient), points=1, draws=0, reason=f"thread {i}",
                            actor=db.session.get(User, personas.manager))

    outcomes = in_threads(app, 4, work)
    assert [o for o in outcomes if o is not None] == []
    assert verify() == []


def test_a_writer_takes_another_audit_lane_while_one_is_held(app, personas):
    """One transaction holds its lane (uncommitted); another's audit row goes to a free lane at once."""
    if not _on_postgres(app):
        pytest.skip("SQLite has one writer at a time: its lanes never wait for each other")
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent
    from cm_tracker.services.core import audit

    held, done = threading.Event(), threading.Event()
    lanes: dict[str, int] = {}

    def holder() -> None:
        with app.app_context():
            row = audit.record("test.hold")
            db.session.flush()
            lanes["held"] = row.chain_lane
            held.set()
            done.wait(30)
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(30)
        with app.app_context():
            db.session.execute(text("SET LOCAL lock_timeout = '5s'"))  # waiting for the held lane fails the test
            row = audit.record("test.other")
            db.session.flush()
            lanes["other"] = row.chain_lane
            db.session.commit()
            db.session.remove()
    finally:
        done.set()
        thread.join(30)
    assert lanes["held"] != lanes["other"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEvent.action.like("test.%"))) == 2


def test_rows_written_while_the_check_reads_are_not_taken_for_tampering(app, personas, monkeypatch, verify):
    """The check reads the heads, then the rows: a row another request commits in between lies past its lane's
    head, and is checked like any other."""
    from cm_tracker.services.queries import chain_check
    from cm_tracker.services.usecases.access_log import log_now

    with app.app_context():
        log_now("test.before")
    reading = chain_check._rows

    def rows_with_a_write_first(table, from_id):
        if table.name == "audit_events":
            assert in_threads(app, 1, lambda _i: log_now("test.between", patient_id=personas.patient)) == [None]
        yield from reading(table, from_id)

    monkeypatch.setattr(chain_check, "_rows", rows_with_a_write_first)
    assert verify() == []
