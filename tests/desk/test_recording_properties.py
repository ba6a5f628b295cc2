"""Properties of recording through the database (hypothesis): whatever the results, their order of arrival and
corrections, the ledger agrees with the engine, the cap holds, and nothing is posted twice."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from factories import at, specimen

RESULTS = st.lists(st.sampled_from("NNNNPMERD"), min_size=1, max_size=12)
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _record_all(clinic, seq, order):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.specimens import record_specimen

    patient = db.session.get(Patient, clinic.patient_id)
    actor = db.session.get(User, clinic.counselor_id)
    return {i: record_specimen(patient, specimen(seq[i], collected_at=at(2 * i)), actor=actor).specimen
            for i in order}


def _entries(clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry

    return db.session.scalars(select(LedgerEntry).where(LedgerEntry.patient_id == clinic.patient_id)).all()


def _expected_points(clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment
    from cm_tracker.services.core.evaluation import snapshot

    return snapshot(db.session.get(Enrollment, clinic.enrollment_id)).evaluate().points


@SETTINGS
@given(seq=RESULTS, data=st.data())
def test_the_balance_is_the_sum_of_entries_and_what_the_engine_computes(make_clinic, seq, data):
    from cm_tracker.services.core.balances import balance_of

    clinic = make_clinic(cap_cents=3000)
    order = data.draw(st.permutations(range(len(seq))))
    _record_all(clinic, seq, order)
    entries = _entries(clinic)
    assert balance_of(clinic.patient_id).points == sum(e.points for e in entries) == _expected_points(clinic)


@SETTINGS
@given(seq=RESULTS, data=st.data())
def test_the_result_does_not_depend_on_the_order_of_entry(make_clinic, seq, data):
    from cm_tracker.services.core.balances import balance_of

    in_order = make_clinic()
    _record_all(in_order, seq, range(len(seq)))
    shuffled = make_clinic()
    _record_all(shuffled, seq, data.draw(st.permutations(range(len(seq)))))
    assert balance_of(in_order.patient_id).points == balance_of(shuffled.patient_id).points


@SETTINGS
@given(seq=RESULTS, data=st.data())
def test_failures_and_neutrals_earn_nothing_and_the_cap_holds(make_clinic, seq, data):
    from collections import defaultdict

    clinic = make_clinic(cap_cents=2500)
    specimens = _record_all(clinic, seq, data.draw(st.permutations(range(len(seq)))))
    net: dict[int, int] = defaultdict(int)
    for entry in _entries(clinic):
        net[entry.event_id] += entry.points
    for i, result in enumerate(seq):
        if result != "N":
            assert net[specimens[i].id] == 0
    assert sum(e.value_cents for e in _entries(clinic)) <= 2500


@SETTINGS
@given(seq=RESULTS, flip=st.integers(min_value=0, max_value=11))
def test_a_correction_followed_by_its_reverse_returns_to_the_same_balance(make_clinic, seq, flip):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, LedgerEntry
    from cm_tracker.services.core.balances import balance_of
    from cm_tracker.services.usecases.reevaluation import reevaluate_and_refresh
    from cm_tracker.services.usecases.specimens import SpecimenInput, correct_specimen

    clinic = make_clinic()
    specimens = _record_all(clinic, seq, range(len(seq)))
    before = balance_of(clinic.patient_id).points
    target = specimens[flip % len(seq)]
    original = specimen(seq[flip % len(seq)], collected_at=target.collected_at)
    other = specimen("P" if seq[flip % len(seq)] == "N" else "N", collected_at=target.collected_at)
    fields = [f for f in SpecimenInput.__dataclass_fields__ if f != "confirm_untested"]
    correct_specimen(target, version=1, reason="typo", changes={f: getattr(other, f) for f in fields},
                     actor=target.enrollment.patient.counselor)
    correct_specimen(target, version=2, reason="typo undone", changes={f: getattr(original, f) for f in fields},
                     actor=target.enrollment.patient.counselor)
    assert balance_of(clinic.patient_id).points == before
    count = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    enrollment = db.session.get(Enrollment, clinic.enrollment_id)
    assert reevaluate_and_refresh(enrollment, because="check", actor=None) == []
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == count
