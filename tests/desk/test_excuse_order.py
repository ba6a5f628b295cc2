"""An excuse wins over a missed record whichever was typed first, and the outcomes report counts it at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from desk.conftest import enrol, moment, negative, patient, user


def _missed(day):
    from cm_tracker.models import SpecimenStatus
    from cm_tracker.services.usecases.specimens import SpecimenInput

    return SpecimenInput(collected_at=moment(day, 23), status=SpecimenStatus.MISSED)


def _points_by_day(patient_id: int) -> list[tuple[str, int]]:
    """Each test's day and the points the ledger holds for it (awards and adjustments together)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import EventType, LedgerEntry, Specimen
    from cm_tracker.services.core.clinic import clinic_date

    rows = db.session.execute(
        select(Specimen.collected_at, func.sum(LedgerEntry.points))
        .join(LedgerEntry, (LedgerEntry.event_type == EventType.SPECIMEN) & (LedgerEntry.event_id == Specimen.id))
        .where(Specimen.patient_id == patient_id).group_by(Specimen.id, Specimen.collected_at)
        .order_by(Specimen.collected_at))
    return [(str(clinic_date(at)), int(points)) for at, points in rows]


def _outcomes(patient_id: int, event_type: str) -> list[str]:
    """The cached outcome of each event of one kind, in the order they happened."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, EventOutcome

    return [str(o) for o in db.session.scalars(
        select(EventOutcome.outcome).join(Enrollment, Enrollment.id == EventOutcome.enrollment_id)
        .where(Enrollment.patient_id == patient_id, EventOutcome.event_type == event_type)
        .order_by(EventOutcome.occurred_at))]


def _test_history(patient_id: int, today, counselor, *, excuse_first: bool) -> None:
    """Negatives on days -5 and -4, a missed test on day -3, a negative on day -2; day -3 excused before or after."""
    from cm_tracker.services.usecases.specimens import record_specimen
    from cm_tracker.services.usecases.visits import excuse_day

    excused = today - timedelta(days=3)
    if excuse_first:
        excuse_day(patient(patient_id), on=excused, reason="Court date", actor=counselor)
    for back in (5, 4):
        record_specimen(patient(patient_id), negative(today - timedelta(days=back)), actor=counselor)
    record_specimen(patient(patient_id), _missed(excused), actor=counselor)
    record_specimen(patient(patient_id), negative(today - timedelta(days=2)), actor=counselor)
    if not excuse_first:
        excuse_day(patient(patient_id), on=excused, reason="Court date", actor=counselor)


def test_an_excuse_typed_before_a_missed_test_gives_the_ledger_and_outcome_of_a_later_excuse(app, ctx, desk,
                                                                                           personas):
    from cm_tracker.services.core.balances import balance_of

    other, _ = enrol(app, desk.program, personas.counselor, name="Edgar Early", record="MRN-D2", start=desk.start)
    counselor = user(personas.counselor)
    _test_history(desk.patient, desk.today, counselor, excuse_first=False)
    _test_history(other, desk.today, counselor, excuse_first=True)
    day = [str(desk.today - timedelta(days=back)) for back in (5, 4, 3, 2)]
    # The excused test is neutral: the negative after it is the third in a row, with its bonus.
    expected = [(day[0], 10), (day[1], 15), (day[2], 0), (day[3], 20 + 40)]
    assert _points_by_day(desk.patient) == expected
    assert _points_by_day(other) == expected
    assert balance_of(other).points == balance_of(desk.patient).points == 85
    assert _outcomes(other, "specimen") == _outcomes(desk.patient, "specimen") == [
        "success", "success", "neutral", "success"]


def test_a_missed_test_recorded_on_an_excused_day_is_stored_excused_with_the_excuse(app, ctx, desk):
    from cm_tracker.services.usecases.specimens import record_specimen
    from cm_tracker.services.usecases.visits import excuse_day

    counselor = user(patient(desk.patient).counselor_id)
    day = desk.today - timedelta(days=1)
    excuse_day(patient(desk.patient), on=day, reason="Hospital stay", actor=counselor)
    done = record_specimen(patient(desk.patient), _missed(day), actor=counselor)
    assert (str(done.specimen.status), done.outcomes) == ("excused", {"stimulants": "neutral"})
    assert done.specimen.note == "Excused: Hospital stay"
    again = record_specimen(patient(desk.patient), _missed(day), actor=counselor)  # a resent form is a retry
    assert again.is_duplicate and again.specimen.id == done.specimen.id


def test_an_unexcused_session_on_an_excused_day_is_excused_in_either_order(app, ctx, desk, personas):
    from cm_tracker.models import AttendanceStatus
    from cm_tracker.services.usecases.attendance import record_attendance
    from cm_tracker.services.usecases.visits import excuse_day

    other, _ = enrol(app, desk.program, personas.counselor, name="Edgar Early", record="MRN-D2", start=desk.start)
    counselor = user(personas.counselor)
    day = desk.today - timedelta(days=1)
    excuse_day(patient(other), on=day, reason="Funeral", actor=counselor)
    for patient_id in (desk.patient, other):
        done = record_attendance(patient(patient_id), occurred_at=moment(day, 10), target_key="groups",
                                 status=AttendanceStatus.UNEXCUSED, actor=counselor)
        assert done.outcomes == {"groups": "failure" if patient_id == desk.patient else "neutral"}
    excuse_day(patient(desk.patient), on=day, reason="Funeral", actor=counselor)
    assert _outcomes(desk.patient, "attendance") == _outcomes(other, "attendance") == ["neutral"]


def test_an_excuse_for_an_unrecorded_visit_counts_in_the_whole_episode_report_at_once(app, ctx, desk):
    from cm_tracker.services.queries.reports.outcomes import enrollment_counts, make_scope
    from cm_tracker.services.usecases.specimens import record_specimen
    from cm_tracker.services.usecases.visits import excuse_day

    counselor = user(patient(desk.patient).counselor_id)
    for back in (7, 6, 5, 4, 3):  # days -2 and -1 stay unrecorded: the day-closing job has not run
        record_specimen(patient(desk.patient), negative(desk.today - timedelta(days=back)), actor=counselor)

    def itt() -> tuple[int, int, int]:
        _, scope = make_scope(desk.program, None, None, None, desk.today)
        assert scope.whole_episode
        counts = enrollment_counts(scope, 25)[1][desk.enrollment]
        return counts.successes, counts.itt_denominator, counts.excused_tests

    assert itt() == (5, 7, 0)
    done = excuse_day(patient(desk.patient), on=desk.today - timedelta(days=2), reason="Court date",
                      actor=counselor)
    assert (done.corrected, done.adjustments) == (0, [])
    assert itt() == (5, 6, 1)
