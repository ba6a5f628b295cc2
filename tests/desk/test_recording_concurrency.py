"""Concurrent entries for one patient cannot double-post (row lock on PostgreSQL, write lock on SQLite)."""

from __future__ import annotations

import threading

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


def test_a_write_that_loses_the_race_computes_again_from_what_won(app, make_clinic, monkeypatch):
    """A desk entry reads and evaluates before it locks; when another entry of the same patient commits in between,
    the claim fails and the entry is computed again from the new history (not from what it read)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry, Patient, User
    from cm_tracker.services.usecases import reevaluation
    from cm_tracker.services.usecases.specimens import record_specimen

    clinic = make_clinic()
    real, claims, main = reevaluation.claim_enrollment, [], threading.current_thread()

    def other_desk(_i: int):
        who, actor = db.session.get(Patient, clinic.patient_id), db.session.get(User, clinic.counselor_id)
        return record_specimen(who, specimen("N", collected_at=at(0)), actor=actor)

    def racing(enrollment_id: int, version: int) -> bool:
        if threading.current_thread() is not main:
            return real(enrollment_id, version)
        if not claims:  # another desk records the earlier specimen after this entry read the history
            claims.append(in_threads(app, 1, other_desk))
        won = real(enrollment_id, version)
        claims.append(won)
        return won

    monkeypatch.setattr(reevaluation, "claim_enrollment", racing)
    patient, actor = db.session.get(Patient, clinic.patient_id), db.session.get(User, clinic.counselor_id)
    later = record_specimen(patient, specimen("N", collected_at=at(3)), actor=actor)

    assert claims[1:] == [False, True]
    # The second negative in a row earns 15, as if the two had been typed one after the other.
    assert [e.points for e in later.awards] == [15]
    rows = db.session.execute(select(LedgerEntry.kind, LedgerEntry.points).order_by(LedgerEntry.id)).all()
    assert [(str(k), p) for k, p in rows] == [("award", 10), ("award", 15)]


def test_a_patient_written_to_by_many_at_once_still_gets_every_entry_through(app, make_clinic, monkeypatch):
    """After OPTIMISTIC_ATTEMPTS lost claims the entry locks first and reads under the lock, so it cannot starve."""
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry, Patient, User
    from cm_tracker.services.usecases import reevaluation
    from cm_tracker.services.usecases.specimens import record_specimen

    clinic = make_clinic()
    monkeypatch.setattr(reevaluation, "claim_enrollment", lambda *_args: False)  # every optimistic claim loses
    patient, actor = db.session.get(Patient, clinic.patient_id), db.session.get(User, clinic.counselor_id)
    recorded = record_specimen(patient, specimen("N", collected_at=at(0)), actor=actor)

    assert [e.points for e in recorded.awards] == [10]
    assert db.session.scalar(select(func.sum(LedgerEntry.points))) == 10


def test_a_desk_entry_only_writes_once_it_holds_the_lock(app, make_clinic):
    """Everything is read before the claim of the enrolment's version; from the claim to the commit (the time the
    lock is held, the whole database's on SQLite) the entry runs no SELECT."""
    from helpers import statements
    from worlds.clinic import record

    clinic = make_clinic()
    record(clinic, [(0, "N"), (3, "N"), (7, "P")])
    with statements(app) as seen:
        record(clinic, [(10, "N")])
    claim = next(i for i, s in enumerate(seen) if s.startswith("UPDATE enrollments SET version"))
    assert seen[:claim] and all(s.lstrip().startswith("SELECT") for s in seen[:claim])
    # (On PostgreSQL a connection's first audit row takes the connection's audit lane, a session advisory lock, held
    # by no transaction: services/core/chain.py. It reads no table.)
    assert [s.split()[0] for s in seen[claim:]
            if s.lstrip().startswith("SELECT") and "pg_try_advisory_lock" not in s] == []
    assert any(s.startswith("INSERT INTO ledger_entries") for s in seen[claim:])
    # The audit row is one INSERT chained to the head its connection read before the claim, so the only head taken
    # by an UPDATE under the lock is the ledger lane's (on PostgreSQL the audit row used to take one too).
    assert sum(s.startswith("UPDATE chain_heads") for s in seen[claim:]) == 1
    assert sum(s.startswith("INSERT INTO audit_events") for s in seen[claim:]) == 1


def test_the_answer_of_a_desk_entry_is_built_without_reading_again(app, make_clinic):
    """The commit keeps what the entry wrote (usecases.transactions.commit_keeping_loaded): nothing is read after the
    entry's writes, neither to build its result nor when the caller reads the specimen and its awards."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.specimens import record_specimen

    from helpers import statements

    clinic = make_clinic()
    patient, actor = db.session.get(Patient, clinic.patient_id), db.session.get(User, clinic.counselor_id)
    with statements(app) as seen:
        recorded = record_specimen(patient, specimen("N", collected_at=at(0)), actor=actor)
        answer = (recorded.specimen.id, recorded.specimen.version, [(e.points, e.reason) for e in recorded.awards])
    assert seen[-1].split()[0] in {"INSERT", "UPDATE"}, seen[-1][:80]
    assert answer[2][0][0] == 10
