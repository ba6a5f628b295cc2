"""Recording posts exactly the engine's awards; corrections post differences; retries post nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from factories import at, specimen


def _record(clinic, seq, *, days=None, **kwargs):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.specimens import record_specimen

    patient = db.session.get(Patient, clinic.patient_id)
    actor = db.session.get(User, clinic.counselor_id)
    days = days or [2 * i for i in range(len(seq))]
    return [record_specimen(patient, specimen(r, collected_at=at(d)), actor=actor, **kwargs)
            for r, d in zip(seq, days, strict=True)]


def _points(recorded):
    return [sum(e.points for e in r.awards) for r in recorded]


def _balance(clinic):
    from cm_tracker.services.core.balances import balance_of

    return balance_of(clinic.patient_id)


def test_recording_nnnpnnn_posts_the_vector_awards(make_clinic):
    clinic = make_clinic()
    recorded = _record(clinic, "NNNPNNN")
    assert _points(recorded) == [10, 15, 60, 0, 10, 15, 60]
    assert _balance(clinic).points == 170
    assert recorded[0].awards[0].reason.startswith("Negative for")


def test_each_award_names_its_event(make_clinic):
    clinic = make_clinic()
    first = _record(clinic, "N")[0]
    entry = first.awards[0]
    assert (entry.event_type, entry.event_id, entry.target_key) == ("specimen", first.specimen.id, "stimulants")
    assert first.outcomes == {"stimulants": "success"}


def test_recording_the_same_specimen_twice_posts_nothing_new(make_clinic):
    clinic = make_clinic()
    _record(clinic, "NN")
    again = _record(clinic, "N", days=[2])[0]
    assert again.is_duplicate
    assert _balance(clinic).points == 25


def test_a_different_specimen_at_the_same_time_is_a_conflict(make_clinic):
    import pytest

    from cm_tracker.services.core.errors import Conflict

    clinic = make_clinic()
    _record(clinic, "N")
    with pytest.raises(Conflict):
        _record(clinic, "P", days=[0])
    assert _balance(clinic).points == 10


def test_a_late_older_entry_is_placed_in_order_and_later_awards_adjusted(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry

    clinic = make_clinic()
    _record(clinic, "NN", days=[2, 4])  # paid 10, 15
    late = _record(clinic, "N", days=[0])[0]  # now the first of three: the others become 15 and 20+40
    assert _points([late]) == [10]
    assert _balance(clinic).points == 10 + 15 + 60
    adjustments = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.ADJUSTMENT)).all()
    assert sorted(a.points for a in adjustments) == [5, 45]


def test_correcting_a_result_posts_the_difference_and_its_reverse_restores_the_balance(make_clinic):
    from cm_tracker.services.usecases.specimens import correct_specimen

    clinic = make_clinic()
    recorded = _record(clinic, "NNN")
    assert _balance(clinic).points == 85
    middle = recorded[1].specimen
    from cm_tracker.models import AnalyteResult

    positive = {"cocaine": AnalyteResult.POSITIVE, "methamphetamine": AnalyteResult.NEGATIVE}
    corrected = correct_specimen(middle, version=1, reason="lab confirmation", changes={"results": positive},
                                 actor=middle.enrollment.patient.counselor)
    # N P N: 10, 0, 10
    assert _balance(clinic).points == 20
    assert {a.reason.split(":")[0] for a in corrected.adjustments} == {"Correction (lab confirmation)"}
    negative = {"cocaine": AnalyteResult.NEGATIVE, "methamphetamine": AnalyteResult.NEGATIVE}
    correct_specimen(middle, version=2, reason="entered in error", changes={"results": negative},
                     actor=middle.enrollment.patient.counselor)
    assert _balance(clinic).points == 85


def test_a_stale_version_is_refused(make_clinic):
    import pytest

    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases.specimens import correct_specimen

    clinic = make_clinic()
    s = _record(clinic, "N")[0].specimen
    correct_specimen(s, version=1, reason="typo", changes={"note": "x"}, actor=s.enrollment.patient.counselor)
    with pytest.raises(Conflict, match="version 2"):
        correct_specimen(s, version=1, reason="typo", changes={"note": "y"}, actor=s.enrollment.patient.counselor)


def test_reevaluating_an_unchanged_history_posts_nothing(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, LedgerEntry
    from cm_tracker.services.usecases.reevaluation import reevaluate_and_refresh

    clinic = make_clinic()
    _record(clinic, "NNPNM")
    before = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    enrollment = db.session.get(Enrollment, clinic.enrollment_id)
    assert reevaluate_and_refresh(enrollment, because="check", actor=None) == []
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == before


def test_the_cap_cuts_an_award_to_what_fits(make_clinic):
    clinic = make_clinic(cap_cents=2000)  # $20 = 80 points at 25 cents
    recorded = _record(clinic, "NNNN")
    assert _points(recorded) == [10, 15, 55, 0]
    assert "cut to 55 points" in recorded[2].awards[0].reason


def test_an_entry_rolled_back_leaves_nothing_in_the_way_of_the_next(make_clinic, monkeypatch):
    """The desk's specimen is put in the session as loaded (usecases.specimen_inserts): one rolled back must not
    stand in the way of the next, which on SQLite is given the same id."""
    import pytest

    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen
    from cm_tracker.services.usecases import specimens

    clinic = make_clinic()
    _record(clinic, "N")

    def fail(*_args, **_kwargs):
        raise RuntimeError("the re-evaluation failed")

    with monkeypatch.context() as patched:
        patched.setattr(specimens, "reevaluate_and_refresh", fail)
        with pytest.raises(RuntimeError):
            _record(clinic, "N", days=[2])
    db.session.rollback()
    again = _record(clinic, "N", days=[2])[0]
    assert not again.is_duplicate and _points([again]) == [15]
    assert db.session.get(Specimen, again.specimen.id) is again.specimen
    assert [r.analyte for r in again.specimen.results] == list(specimen("N", collected_at=at(2)).results)
    assert db.session.scalar(select(func.count()).select_from(Specimen)) == 2


def test_a_new_entry_takes_its_id_from_an_object_of_a_row_gone_from_the_database(make_clinic):
    """SQLite gives a removed row's id again: an object the session still holds under it is of a row no longer
    there, and the new specimen takes its place in the session (as the ORM's flush would have)."""
    import pytest
    from sqlalchemy import delete

    from cm_tracker.extensions import db
    from cm_tracker.models import RecordVersion, Specimen, SpecimenResult

    if db.engine.dialect.name != "sqlite":
        pytest.skip("a PostgreSQL sequence never gives an id again")
    clinic = make_clinic()
    first = _record(clinic, "N")[0].specimen
    gone = first.id
    versions = RecordVersion.__table__.c
    db.session.execute(delete(RecordVersion.__table__).where(versions.record_type == "specimen",
                                                             versions.record_id == gone))
    db.session.execute(delete(SpecimenResult.__table__).where(SpecimenResult.__table__.c.specimen_id == gone))
    db.session.execute(delete(Specimen.__table__).where(Specimen.__table__.c.id == gone))
    db.session.commit()
    again = _record(clinic, "N", days=[2])[0].specimen
    assert again.id == gone and db.session.get(Specimen, again.id) is again
