"""A live programme's schedule changes from a date through the services, with real clinic dates: awards already
given stand, the next success after the date pays by the new version, and the streak carries across."""

from __future__ import annotations

from datetime import timedelta

import pytest

from factories import START, at, specimen

RICHER = {"kind": "escalating", "start": 20, "step": 10}


def _record(clinic, code, day):
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.specimens import record_specimen

    patient, actor = db.session.get(Patient, clinic.patient_id), db.session.get(User, clinic.counselor_id)
    return record_specimen(patient, specimen(code, collected_at=at(day)), actor=actor)


def _change(clinic, schedule, *, effective_day, today_day, **extra):
    from cm_tracker.extensions import db
    from cm_tracker.models import Program, User
    from cm_tracker.services.usecases.program_schedules import add_schedule_version

    program = db.session.get(Program, clinic.program_id)
    actor = db.session.get(User, clinic.counselor_id)
    data = {"schedule": schedule, "effective_on": (START + timedelta(days=effective_day)).isoformat(), **extra}
    return add_schedule_version(program, "stimulants", data, actor=actor, today=START + timedelta(days=today_day))


def _ledger(clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry

    rows = db.session.query(LedgerEntry).filter_by(enrollment_id=clinic.enrollment_id).order_by(LedgerEntry.id)
    return [(str(e.kind), e.points) for e in rows]


def test_a_change_effective_tomorrow_leaves_past_awards_and_pays_the_next_success_by_the_new_version(make_clinic):
    clinic = make_clinic()
    for day in (0, 3, 7):
        _record(clinic, "N", day)
    _change(clinic, RICHER, effective_day=9, today_day=8)

    later = _record(clinic, "N", 10)

    # 10, 15, 20 + 40 under version 1; the fourth in a row under version 2: 20 + 3 x 10.
    assert _ledger(clinic) == [("award", 10), ("award", 15), ("award", 60), ("award", 50)]
    assert later.awards[0].reason.endswith("50 points (20 + 3 x 10)")


def test_a_correction_after_the_change_re_evaluates_without_touching_earlier_awards(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.usecases.specimens import correct_specimen

    clinic = make_clinic()
    first = _record(clinic, "N", 0).specimen
    _record(clinic, "N", 3)
    _change(clinic, RICHER, effective_day=5, today_day=4)
    _record(clinic, "N", 7)

    correct_specimen(first, version=first.version, reason="typo", changes={"note": "checked"},
                     actor=db.session.get(User, clinic.counselor_id))

    assert _ledger(clinic) == [("award", 10), ("award", 15), ("award", 40)]


def test_the_streak_and_its_saved_level_carry_across_versions(make_clinic):
    clinic = make_clinic()
    for day, code in ((0, "N"), (3, "N"), (7, "N"), (10, "N"), (14, "P")):
        _record(clinic, code, day)
    _change(clinic, {"kind": "escalating", "start": 10, "step": 5, "recovery_after": 2}, effective_day=16,
            today_day=15)

    _record(clinic, "N", 17)
    restored = _record(clinic, "N", 21)

    # Level 4 was lost on day 14 under version 1; version 2's recovery brings it back: 10 + 4 x 5.
    assert restored.awards[0].points == 30


def test_an_effective_date_in_the_past_is_refused_beside_the_field(make_clinic):
    from cm_tracker.services.core.errors import ValidationFailed

    clinic = make_clinic()
    with pytest.raises(ValidationFailed) as refused:
        _change(clinic, RICHER, effective_day=4, today_day=5)
    assert "awards already given stand" in refused.value.fields["effective_on"]


def test_today_is_refused_once_results_were_recorded_today(make_clinic):
    from cm_tracker.services.core.errors import ValidationFailed

    clinic = make_clinic()
    _record(clinic, "N", 3)
    with pytest.raises(ValidationFailed) as refused:
        _change(clinic, RICHER, effective_day=3, today_day=3)
    assert "already recorded today" in refused.value.fields["effective_on"]


def test_a_new_version_keeps_the_schedule_kind(make_clinic):
    from cm_tracker.services.core.errors import ValidationFailed

    clinic = make_clinic()
    with pytest.raises(ValidationFailed) as refused:
        _change(clinic, {"kind": "fixed", "points": 5}, effective_day=9, today_day=8)
    assert set(refused.value.fields) == {"schedule.kind"}


def test_engine_errors_come_back_with_dotted_schedule_paths(make_clinic):
    from cm_tracker.services.core.errors import ValidationFailed

    clinic = make_clinic()
    with pytest.raises(ValidationFailed) as refused:
        _change(clinic, {"kind": "escalating", "start": 0, "max": "ten"}, effective_day=9, today_day=8)
    assert {"schedule.start", "schedule.max"} <= set(refused.value.fields)


def test_a_version_saved_since_the_editor_opened_is_a_conflict(make_clinic):
    from cm_tracker.services.core.errors import Conflict

    clinic = make_clinic()
    _change(clinic, RICHER, effective_day=9, today_day=8, based_on_version=1)
    with pytest.raises(Conflict):
        _change(clinic, {"kind": "escalating", "start": 30}, effective_day=9, today_day=8, based_on_version=1)


def test_each_version_is_audited_with_its_date(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    clinic = make_clinic()
    _change(clinic, RICHER, effective_day=9, today_day=8)

    row = db.session.query(AuditEvent).filter_by(action="program.schedule_version").one()
    assert row.detail == {"target": "stimulants", "version": 2, "effective_on": (START + timedelta(days=9)).isoformat()}
