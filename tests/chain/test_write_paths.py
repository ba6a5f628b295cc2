"""Every way cm-tracker writes a ledger or an audit row chains it (services/core/chain.py): the desk entry, a
correction, a manual adjustment, a redemption, prize draws, the lab import's bulk writes, a read's audit row
(access_log.log_now) and a change's (audit.record); and the whole chain then checks intact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from labs.lab_bodies import NEGATIVE, body
from sqlalchemy import func, select

from helpers import api_token, sign_in, statements
from worlds.story import STORY_NOW, story_world


def _unchained() -> dict[str, int]:
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent, LedgerEntry

    return {model.__tablename__: db.session.scalar(select(func.count()).where(model.chain_hmac.is_(None)))
            for model in (AuditEvent, LedgerEntry)}


def _lanes(model) -> list[tuple[int, int]]:
    from cm_tracker.extensions import db

    return [tuple(row) for row in db.session.execute(select(model.chain_lane, model.chain_seq).order_by(model.id))]


@pytest.mark.time_machine(STORY_NOW)
def test_the_desk_a_correction_an_adjustment_and_a_redemption_chain_every_row(app, personas, verify):
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry

    story_world(app, personas)
    with app.app_context():
        kinds = set(db.session.scalars(select(LedgerEntry.kind)))
        assert {EntryKind.AWARD, EntryKind.ADJUSTMENT, EntryKind.MANUAL, EntryKind.REDEMPTION} <= kinds
        assert _unchained() == {"audit_events": 0, "ledger_entries": 0}
        pat = db.session.scalars(select(LedgerEntry).where(LedgerEntry.patient_id == personas.patient)
                                 .order_by(LedgerEntry.id)).all()
        # One lane per enrolment, its places 1, 2, 3, ... in the order the entries were written.
        assert {e.chain_lane for e in pat} == {pat[0].enrollment_id}
        assert [e.chain_seq for e in pat] == list(range(1, len(pat) + 1))
    assert verify() == []


DESK_NOW = datetime(2026, 12, 1, 18, tzinfo=UTC)


@pytest.mark.time_machine(DESK_NOW, tick=False)
def test_a_desk_entry_through_the_api_chains_its_ledger_and_audit_rows(app, client, personas, verify):
    from cm_tracker.models import AuditEvent, LedgerEntry

    headers = api_token(client, "cora")
    at = DESK_NOW.isoformat()
    response = client.post(f"/api/v1/patients/{personas.patient}/specimens", headers=headers, json={
        "collected_at": at, "status": "final", "temperature_ok": True, "validity": "valid",
        "results": {"cocaine": "negative", "methamphetamine": "negative"}})
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert _unchained() == {"audit_events": 0, "ledger_entries": 0}
        assert all(lane > 0 and seq > 0 for lane, seq in _lanes(AuditEvent))
        assert [seq for _lane, seq in _lanes(LedgerEntry)] == [1]
    assert verify() == []


def test_prize_draws_chain_their_entries(app, shop, give, personas, verify):
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry, Patient, User
    from cm_tracker.services.usecases.draws import perform_draws

    give(shop.draw_patient, draws=3)
    with app.app_context():
        perform_draws(db.session.get(Patient, shop.draw_patient), 3, actor=db.session.get(User, personas.counselor))
        entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.patient_id == shop.draw_patient)
                                     .order_by(LedgerEntry.id)).all()
        assert [e.kind for e in entries] == [EntryKind.MANUAL] + [EntryKind.DRAW] * 3
        assert [e.chain_seq for e in entries] == [1, 2, 3, 4]
    assert verify() == []


@pytest.mark.time_machine(datetime(2026, 12, 1, 18, tzinfo=UTC), tick=False)
def test_the_lab_import_chains_its_entries_a_flush_at_a_time(app, lab, verify):
    from cm_tracker.extensions import db
    from cm_tracker.models import LabFormat, LedgerEntry, User
    from cm_tracker.services.usecases.lab_results import receive

    bodies = [body("csv", NEGATIVE, accession=f"ACC-{n}", when=f"2026-11-{27 + n}T16:30:00+00:00").decode()
              for n in range(3)]
    data = (bodies[0] + "".join(b.split("\n", 1)[1] for b in bodies[1:])).encode()  # one file, three accessions
    receive(data, LabFormat.CSV, sender=db.session.get(User, lab.lab_user_id), source="test")
    entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.chain_seq)).all()
    assert len(entries) >= 3
    assert [e.chain_seq for e in entries] == list(range(1, len(entries) + 1))
    assert _unchained() == {"audit_events": 0, "ledger_entries": 0}
    db.session.commit()
    assert verify() == []


def test_a_read_and_a_denial_are_chained(app, client, personas, verify):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    sign_in(client, "cora")
    assert client.get(f"/staff/patients/{personas.patient}").status_code == 200  # a read: log_now, deferred
    assert client.get(f"/staff/patients/{personas.other_patient}").status_code == 404  # a denial: committed at once
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.action, AuditEvent.outcome)).all()
        assert ("patient.view", "success") in [(a, str(o)) for a, o in rows]
        assert "denied" in [str(o) for _a, o in rows]
        assert _unchained() == {"audit_events": 0, "ledger_entries": 0}
    assert verify() == []


def test_the_columns_a_link_covers_are_every_column_but_the_id_and_the_chain_itself():
    """A column added to either table must be added to chain.CHAINED (and to the migration that chains existing
    rows), or left out here on purpose."""
    from cm_tracker.models import AuditEvent, LedgerEntry
    from cm_tracker.services.core import chain

    for model in (AuditEvent, LedgerEntry):
        columns = [c.key for c in model.__table__.columns if c.key not in ("id", *chain.CHAIN_COLUMNS)]
        assert tuple(columns) == chain.CHAINED[model.__tablename__]


def test_production_refuses_to_start_without_a_chain_key():
    from config import DEV_AUDIT_CHAIN_KEY, ConfigError, check_production_safety

    for key in (None, "", DEV_AUDIT_CHAIN_KEY, "short"):
        with pytest.raises(ConfigError, match="AUDIT_CHAIN_KEY"):
            check_production_safety({"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "AUDIT_CHAIN_KEY": key})
    check_production_safety({"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "AUDIT_CHAIN_KEY": "k" * 40})


def test_the_bulk_history_of_demo_scale_is_chained_a_chunk_at_a_time(app, ctx, verify):
    from datetime import date

    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry
    from cm_tracker.tooling.scale import build_scale

    build_scale(6, seed=5, today=date(2026, 11, 20), chunk=4)
    assert db.session.scalar(select(func.count()).where(LedgerEntry.chain_hmac.is_not(None))) > 50
    assert _unchained() == {"audit_events": 0, "ledger_entries": 0}
    db.session.remove()
    assert verify() == []


def _read(action: str, patient_id: int) -> None:
    """A read's audit row as a request writes it: kept until the request's commit, then one plain INSERT."""
    from cm_tracker.services.usecases import access_log

    access_log.begin_request()
    access_log.log_now(action, patient_id=patient_id)
    access_log.commit_request()
    access_log.end_request()


def test_a_read_row_is_one_insert_and_its_lane_head_moves_with_it(app, client, personas, verify):
    """The INSERT of a read's audit row carries its link, and the table's trigger moves the lane's head to it: no
    statement of the writer's own takes the place or sets the link (services/core/chain.py)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent, ChainHead
    with app.app_context():
        _read("test.first", personas.patient)  # the lane taken and its head made
        with statements(app) as seen:
            _read("test.second", personas.patient)
        # (A connection of the pool not used before takes its lane first: a SELECT or two, never an UPDATE.)
        said = [" ".join(s.split()).upper() for s in seen]
        assert len([s for s in said if s.startswith("INSERT INTO AUDIT_EVENTS")]) == 1
        assert [s for s in said if s.startswith("UPDATE")] == []
        row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "test.second")).one()
        head = db.session.get(ChainHead, ("audit_events", row.chain_lane))
        assert (head.sequence, head.link) == (row.chain_seq, row.chain_hmac)
        db.session.remove()
    assert verify() == []


def test_a_rolled_back_audit_row_leaves_the_next_one_chained_to_what_was_kept(app, verify):
    """A connection's remembered head can be ahead of the stored one (its transaction rolled back after writing an
    audit row): on PostgreSQL the next row's INSERT finds the head elsewhere, the head is read and the row written
    again, still in the chain."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent
    from cm_tracker.services.core import chain

    def row(action: str) -> list[dict[str, object]]:
        return [{"action": action, "outcome": "success", "occurred_at": datetime(2026, 12, 1, tzinfo=UTC)}]

    with app.app_context():
        with db.engine.connect() as connection:  # one connection throughout, so one lane and one remembered head
            chain.insert_audit(connection, row("test.kept"))
            connection.commit()
            chain.insert_audit(connection, row("test.lost"))
            connection.rollback()
            with statements(app) as seen:
                chain.insert_audit(connection, row("test.after"))
            connection.commit()
        rows = db.session.execute(select(AuditEvent.action, AuditEvent.chain_lane, AuditEvent.chain_seq)
                                  .order_by(AuditEvent.id)).all()
        postgres = db.engine.dialect.name == "postgresql"
        db.session.remove()
    assert [r.action for r in rows] == ["test.kept", "test.after"]
    assert rows[1].chain_lane == rows[0].chain_lane and rows[1].chain_seq == rows[0].chain_seq + 1
    # PostgreSQL: the INSERT that found the head moved, the head read, the INSERT again; SQLite reads it in the INSERT.
    assert len(seen) == (3 if postgres else 1)
    assert verify() == []
