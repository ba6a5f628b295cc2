"""Stored rows become engine events in one place (core.events): the evaluation and the live reading of a target's
state (for an enrolment without a stored one) see the same events, and reading many enrollments costs the same
queries as reading one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from desk.conftest import enrol, moment, negative, patient, user


def _history(app, desk, counselor_id: int, patient_id: int | None = None) -> None:
    """A negative specimen, an attended session and a verified goal activity, two days ago."""
    from cm_tracker.models import AttendanceStatus
    from cm_tracker.services.usecases.activities import propose_activity, verify_activity
    from cm_tracker.services.usecases.attendance import record_attendance
    from cm_tracker.services.usecases.specimens import record_specimen

    day = desk.today - timedelta(days=2)
    with app.app_context():
        who, staff = patient(patient_id or desk.patient), user(counselor_id)
        record_specimen(who, negative(day, 9), actor=staff)
        record_attendance(who, occurred_at=moment(day, 10), target_key="groups", status=AttendanceStatus.ATTENDED,
                          actor=staff)
        activity = propose_activity(who, target_key="goals", week_of=day, description="Job interview",
                                    verification="Letter from the employer", actor=staff)
        verify_activity(activity, version=activity.version, occurred_at=moment(day, 11), note="", actor=staff)


def _sorted(events) -> dict[str, list[object]]:
    return {str(key): sorted(found, key=lambda e: (e.at, e.key)) for key, found in events.items() if found}


def test_the_live_state_and_the_evaluation_see_identical_events(app, desk, personas, monkeypatch):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment
    from cm_tracker.services.core import target_states
    from cm_tracker.services.core.evaluation import snapshot

    _history(app, desk, personas.counselor)
    seen = []
    evaluate = target_states.evaluate_program

    def spy(rules, events, *args):
        seen.append(events)
        return evaluate(rules, events, *args)

    monkeypatch.setattr(target_states, "evaluate_program", spy)
    with app.app_context():
        enrollment = db.session.get(Enrollment, desk.enrollment)
        target_states.live_states([enrollment], desk.today)
        evaluated = _sorted(snapshot(enrollment).events)
    assert set(evaluated) == {"stimulants", "groups", "goals"}
    assert evaluated["goals"][0].reason == "Job interview: activity verified"
    assert _sorted(seen[0]) == evaluated


def test_many_enrollments_cost_the_same_queries_as_one(app, desk, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment
    from cm_tracker.services.core.events import events_for_many, rules_by_program

    _history(app, desk, personas.counselor)

    def count(ids: list[int]) -> int:
        seen: list[str] = []
        with app.app_context():
            enrollments = [db.session.get(Enrollment, i) for i in ids]
            rules = rules_by_program({e.program_id for e in enrollments})
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                found = events_for_many(enrollments, rules)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            assert set(found) == set(ids)
        return len(seen)

    one = count([desk.enrollment])
    more = [desk.enrollment]
    for n in range(3):
        pid, eid = enrol(app, desk.program, personas.counselor, name=f"Extra {n}", record=f"MRN-E{n}",
                         start=desk.start)
        _history(app, desk, personas.counselor, pid)
        more.append(eid)
    assert count(more) == one
