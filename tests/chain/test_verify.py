"""`flask audit verify` against rows changed, removed or inserted by hand, as the tables' owner could around the
append-only triggers: it names the first row that no longer matches, exits 1, and each run is recorded for the
admin's audit page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpers import sign_in
from worlds.story import STORY_NOW, story_world

pytestmark = pytest.mark.time_machine(STORY_NOW)


@pytest.fixture
def clinic(app, personas):
    """The story world: ledger rows of every kind and audit rows, all written through the services."""
    return story_world(app, personas)


def _ids(model, **where) -> list[int]:
    from cm_tracker.extensions import db

    with db.session.begin():
        query = select(model.id).order_by(model.id)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        ids = list(db.session.scalars(query))
    db.session.remove()
    return ids


def test_an_untouched_clinic_checks_intact_and_the_command_says_how_many_rows(app, clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent, LedgerEntry

    with app.app_context():
        audit_rows = db.session.scalar(select(func.count()).select_from(AuditEvent))
        ledger_rows = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"Checked {audit_rows} audit rows and {ledger_rows} ledger rows: the chain is intact." in result.output


def test_a_ledger_row_changed_by_hand_is_named(app, clinic, tamper):
    from cm_tracker.models import LedgerEntry

    with app.app_context():
        target = _ids(LedgerEntry)[2]
    tamper(f"UPDATE ledger_entries SET points = points + 100 WHERE id = {target}")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert (f"ledger_entries row {target}: its content does not match its link (changed outside cm-tracker)"
            in result.output)


def test_an_audit_row_changed_by_hand_is_named(app, clinic, tamper, verify):
    from cm_tracker.models import AuditEvent

    with app.app_context():
        target = _ids(AuditEvent)[5]
    tamper(f"UPDATE audit_events SET username = 'nobody' WHERE id = {target}")
    assert verify() == [f"audit_events row {target}: its content does not match its link (changed outside "
                        "cm-tracker)"]


def test_a_row_removed_from_the_middle_names_the_row_after_the_gap(app, clinic, tamper, verify, personas):
    from cm_tracker.models import LedgerEntry

    with app.app_context():
        pats = _ids(LedgerEntry, patient_id=personas.patient)
    tamper(f"DELETE FROM ledger_entries WHERE id = {pats[1]}")
    assert verify() == [f"ledger_entries row {pats[2]}: the row before it in its chain is missing (removed outside "
                        "cm-tracker)"]


def test_the_last_rows_removed_name_the_last_row_left(app, clinic, tamper, verify, personas):
    from cm_tracker.models import LedgerEntry

    with app.app_context():
        pats = _ids(LedgerEntry, patient_id=personas.patient)
    tamper(f"DELETE FROM ledger_entries WHERE id IN ({pats[-1]}, {pats[-2]})")
    assert verify() == [f"ledger_entries row {pats[-3]}: the 2 rows after it, the last of its chain, are missing "
                        "(removed outside cm-tracker)"]


def test_a_row_inserted_outside_cm_tracker_is_named(app, clinic, tamper, verify, personas):
    from cm_tracker.models import Enrollment

    with app.app_context():
        enrollment = _ids(Enrollment, patient_id=personas.patient)[0]
    tamper("INSERT INTO ledger_entries (patient_id, enrollment_id, created_at, kind, points, draws, value_cents, "
           f"reason) VALUES ({personas.patient}, {enrollment}, CURRENT_TIMESTAMP, 'manual', 500, 0, 12500, 'gift')")
    from cm_tracker.models import LedgerEntry

    with app.app_context():
        forged = _ids(LedgerEntry)[-1]
    assert verify()[0].startswith(f"ledger_entries row {forged}: it carries no link (inserted outside cm-tracker")


def test_a_forged_link_in_a_free_place_is_caught_too(app, clinic, tamper, verify, personas):
    """Whoever writes a row with a made-up link at the lane's next place, and moves the head, still lacks the key."""
    from cm_tracker.models import Enrollment, LedgerEntry

    with app.app_context():
        enrollment = _ids(Enrollment, patient_id=personas.patient)[0]
        count = len(_ids(LedgerEntry, patient_id=personas.patient))
    tamper("INSERT INTO ledger_entries (patient_id, enrollment_id, created_at, kind, points, draws, value_cents, "
           f"reason, chain_lane, chain_seq, chain_hmac) VALUES ({personas.patient}, {enrollment}, CURRENT_TIMESTAMP, "
           f"'manual', 500, 0, 12500, 'gift', {enrollment}, {count + 1}, '{'0' * 64}')")
    tamper(f"UPDATE chain_heads SET sequence = sequence + 1, link = '{'0' * 64}' WHERE chain = 'ledger_entries' "
           f"AND lane = {enrollment}")
    with app.app_context():
        forged = _ids(LedgerEntry)[-1]
    assert verify() == [f"ledger_entries row {forged}: its content does not match its link (changed outside "
                        "cm-tracker)"]


def test_a_range_checks_only_its_rows_from_where_each_lane_stood(app, clinic, tamper, verify):
    from cm_tracker.models import LedgerEntry

    with app.app_context():
        ids = _ids(LedgerEntry)
    tamper(f"UPDATE ledger_entries SET points = 0 WHERE id = {ids[0]}")
    assert verify(from_id=ids[3]) == []
    tamper(f"UPDATE ledger_entries SET reason = 'x' WHERE id = {ids[-1]}")
    assert verify(from_id=ids[3]) == [f"ledger_entries row {ids[-1]}: its content does not match its link (changed "
                                      "outside cm-tracker)"]


def test_the_admin_audit_page_shows_when_the_chain_was_last_verified(app, client, clinic, tamper):
    sign_in(client, "ada")
    assert "Chain never verified." in client.get("/admin/audit").get_data(as_text=True)
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Chain last verified" in page and "(whole chain): <strong>intact</strong>" in page
    tamper("UPDATE audit_events SET action = 'x' WHERE id = (SELECT MIN(id) FROM audit_events)")
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 1
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "BROKEN" in page and "its content does not match its link" in page


def test_each_run_is_a_chained_audit_row_with_its_outcome(app, clinic, verify):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    verify()
    with app.app_context():
        row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.verify")).one()
        assert (str(row.outcome), row.detail["scope"], row.detail["first_break"]) == ("success", "whole chain", None)
        assert row.chain_hmac is not None


def test_a_range_sees_a_lane_whose_rows_in_it_were_all_removed(app, clinic, tamper, verify, personas):
    from cm_tracker.models import LedgerEntry

    with app.app_context():
        olive = _ids(LedgerEntry, patient_id=personas.other_patient)
    tamper(f"DELETE FROM ledger_entries WHERE id IN ({', '.join(map(str, olive))})")
    found = verify(from_id=olive[0])
    assert len(found) == 1 and found[0].startswith("ledger_entries: ")
    assert found[0].endswith("are missing (removed outside cm-tracker)")


def test_since_a_day_checks_the_rows_written_from_that_day_and_is_recorded_so(app, clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import ChainVerification

    result = app.test_cli_runner().invoke(args=["audit", "verify", "--since", "2026-11-19"])
    assert result.exit_code == 0, result.output
    assert "the chain is intact." in result.output
    assert app.test_cli_runner().invoke(args=["audit", "verify", "--since", "2026-11-19", "--from-id", "3"]
                                        ).exit_code == 2
    with app.app_context():
        assert db.session.scalars(select(ChainVerification.scope)).all() == ["rows since 2026-11-19"]
