"""Concurrent entries for one patient cannot double-post (row lock on PostgreSQL, write lock on SQLite)."""

from __future__ import annotations

from sqlalchemy import func, select

from factories import at, specimen
from helpers import in_threads


def test_the_same_specimen_sent_concurrently_is_recorded_once(app, make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry, Patient, Specimen, User
    from cm_tracker.services.usecases.specimens import record_specimen

    clinic = make_clinic()
    db.session.remove()

    def work(_i: int):
        patient = db.session.get(Patient, clinic.patient_id)
        actor = db.session.get(User, clinic.counselor_id)
        return record_specimen(patient, specimen("N", collected_at=at(0)), actor=actor)

    outcomes = in_threads(app, 8, work)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert db.session.scalar(select(func.count()).select_from(Specimen)) == 1
    assert db.session.scalar(select(func.sum(LedgerEntry.points))) == 10


def test_concurrent_different_specimens_each_post_once_in_order(app, make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry, Patient, User
    from cm_tracker.services.usecases.specimens import record_specimen

    clinic = make_clinic()
    db.session.remove()

    def work(i: int):
        patient = db.session.get(Patient, clinic.patient_id)
        actor = db.session.get(User, clinic.counselor_id)
        return record_specimen(patient, specimen("N", collected_at=at(2 * i)), actor=actor)

    outcomes = in_threads(app, 6, work)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    # Six negatives in a row pay 10, 15, 20+40, 25, 30, 35+40 whatever order they were typed in.
    assert db.session.scalar(select(func.sum(LedgerEntry.points))) == 215
