"""Newest-first ledger listings are ordered by a time and then by id (services/queries/ledger_order.py): the staff
lists by when an entry was posted, the portal's history by the day each line says; lines of the same instant keep
the order they were written in."""

from __future__ import annotations

from datetime import UTC, datetime


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def _write(personas, rows: list[dict]) -> list[int]:
    """Ledger rows for Pat in the order given (so their ids rise in that order), with the times given."""
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, EntryKind, LedgerEntry

    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == personas.patient))
    entries = [LedgerEntry(patient_id=personas.patient, enrollment_id=enrollment.id, reason="x", points=1,
                           **{"kind": EntryKind.MANUAL, **row}) for row in rows]
    for entry in entries:  # one flush each, so the ids follow the list
        db.session.add(entry)
        db.session.flush()
    db.session.commit()
    return [e.id for e in entries]


def test_the_staff_ledger_is_newest_posted_first_with_the_id_settling_ties(app, personas):
    from cm_tracker.services.queries.adjustments import recent_adjustments
    from cm_tracker.services.queries.patient_record import latest_entries

    with app.app_context():
        first, stamped_earlier, same_instant = _write(personas, [
            {"created_at": _at(5, 10)}, {"created_at": _at(5, 9)}, {"created_at": _at(5, 10)}])
        assert [e.id for e in latest_entries(personas.patient)] == [same_instant, first, stamped_earlier]
        assert [r.entry.id for r in recent_adjustments()] == [same_instant, first, stamped_earlier]


def test_the_portal_history_is_in_the_order_of_the_days_it_shows(app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, Patient
    from cm_tracker.services.queries import portal_history

    with app.app_context():
        award, manual, correction, late, tie = _write(personas, [
            {"kind": EntryKind.AWARD, "occurred_at": _at(2), "created_at": _at(2)},
            {"created_at": _at(5)},
            # a correction is shown (and placed) when it was made, not on the day of the test it corrects
            {"kind": EntryKind.ADJUSTMENT, "occurred_at": _at(1), "created_at": _at(4)},
            # a session entered late is shown (and placed) on its own day
            {"kind": EntryKind.AWARD, "occurred_at": _at(3), "created_at": _at(6)},
            {"kind": EntryKind.AWARD, "occurred_at": _at(3), "created_at": _at(6)},
        ])
        page = portal_history.history_page(db.session.get(Patient, personas.patient), 1, 10)
        assert [line.entry.id for line in page.lines] == [manual, correction, tie, late, award]
        assert [line.happened_at.day for line in page.lines] == [5, 4, 3, 3, 2]
        second = portal_history.history_page(db.session.get(Patient, personas.patient), 2, 2)
        assert [line.entry.id for line in second.lines] == [tie, late]
