"""The report cache (EventOutcome) follows every evaluation, and the bulk builder writes what the services would."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from reports.report_helpers import report

from worlds.clinic import record


def _outcomes(enrollment_id: int) -> list[tuple[str, str, int]]:
    from cm_tracker.extensions import db
    from cm_tracker.models import EventOutcome

    rows = db.session.execute(select(EventOutcome.outcome, EventOutcome.is_submitted, EventOutcome.points)
                              .where(EventOutcome.enrollment_id == enrollment_id).order_by(EventOutcome.occurred_at))
    return [(str(o), bool(s), p) for o, s, p in rows]


def test_recording_a_specimen_writes_its_outcome_and_award(make_clinic):
    clinic = make_clinic()
    record(clinic, [(0, "N"), (3, "M"), (7, "N")])
    assert _outcomes(clinic.enrollment_id) == [("success", True, 10), ("failure", False, 0), ("success", True, 10)]


def test_a_correction_rewrites_the_outcomes_of_the_whole_history(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import AnalyteResult, Specimen, User
    from cm_tracker.services.usecases.specimens import correct_specimen

    clinic = make_clinic()
    ids = record(clinic, [(0, "N"), (3, "N"), (7, "N")])
    specimen = db.session.get(Specimen, ids[1])
    results = {"cocaine": AnalyteResult.POSITIVE, "methamphetamine": AnalyteResult.NEGATIVE}
    correct_specimen(specimen, version=1, reason="Lab confirmation positive", changes={"results": results},
                     actor=db.session.get(User, clinic.counselor_id))
    assert _outcomes(clinic.enrollment_id) == [("success", True, 10), ("failure", True, 0), ("success", True, 10)]
    totals = report(clinic).totals
    assert (totals.successes, totals.lda_samples_mean, totals.earned_cents) == (2, 1.0, 500)


def test_the_reset_and_recovery_flags_follow_the_schedule(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import EventOutcome

    clinic = make_clinic({"kind": "escalating", "start": 10, "step": 5, "recovery_after": 2})
    record(clinic, [(0, "N"), (3, "N"), (7, "N"), (10, "P"), (14, "N"), (17, "N")])
    flags = db.session.execute(select(EventOutcome.is_reset, EventOutcome.is_recovered)
                               .order_by(EventOutcome.occurred_at)).all()
    assert [(bool(r), bool(v)) for r, v in flags] == [(False, False)] * 3 + [(True, False), (False, False),
                                                                             (False, True)]


def test_rebuilding_the_cache_gives_the_same_rows(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import EnrollmentSummary, EventOutcome
    from cm_tracker.models.reporting import EnrollmentWeek
    from cm_tracker.services.usecases.report_cache import rebuild_all

    clinic = make_clinic()
    record(clinic, [(0, "N"), (3, "P"), (7, "E")])
    before = _outcomes(clinic.enrollment_id)
    weeks = db.session.execute(select(EnrollmentWeek.__table__).order_by(EnrollmentWeek.week_on)).all()
    summary = db.session.execute(select(EnrollmentSummary.__table__)).one()
    assert [(w.successes, w.failures, w.excused) for w in weeks][:2] == [(1, 1, 0), (0, 0, 1)]
    for table in (EventOutcome, EnrollmentWeek, EnrollmentSummary):
        db.session.execute(table.__table__.delete())
    db.session.commit()
    assert rebuild_all() == 1
    assert _outcomes(clinic.enrollment_id) == before
    assert db.session.execute(select(EnrollmentWeek.__table__).order_by(EnrollmentWeek.week_on)).all() == weeks
    assert db.session.execute(select(EnrollmentSummary.__table__)).one() == summary


def test_the_scale_builder_agrees_with_the_services(app, ctx):
    """After a small `demo scale`, re-evaluating any enrolment posts nothing and balances equal the engine's."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, EventOutcome, LedgerEntry
    from cm_tracker.services.core.evaluation import snapshot
    from cm_tracker.services.usecases.reevaluation import reevaluate_and_refresh
    from cm_tracker.tooling.scale import build_scale

    result = build_scale(30, seed=7, today=date(2026, 11, 20), chunk=8)
    assert result.counts["patients"] == 30 and result.counts["specimens"] > 300
    cached = db.session.scalar(select(func.count()).select_from(EventOutcome))
    for enrollment in db.session.scalars(select(Enrollment)).all():
        evaluation = snapshot(enrollment).evaluate()
        assert reevaluate_and_refresh(enrollment, because="check", actor=None) == []
        engine_points = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.enrollment_id == enrollment.id, LedgerEntry.kind == "award"))
        assert engine_points == evaluation.points
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(EventOutcome)) == cached
    db.session.rollback()


def test_the_summary_rows_agree_with_the_period_queries_on_a_scale_history(app, ctx):
    """Counts and the weekly chart, whole episode (summaries and week rows) against the period queries."""
    from dataclasses import replace

    from cm_tracker.extensions import db
    from cm_tracker.models import Program
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.queries.reports import counting, whole_episode
    from cm_tracker.services.queries.reports.outcomes import enrollment_counts, make_scope
    from cm_tracker.tooling.scale import build_scale

    build_scale(40, seed=9, today=clinic_today())
    for program in db.session.scalars(select(Program)).all():
        _, scope = make_scope(program.id, None, None, None, clinic_today())
        assert scope.whole_episode
        _, whole = enrollment_counts(scope, program.point_value_cents)
        _, period = enrollment_counts(replace(scope, whole_episode=False), program.point_value_cents)
        assert whole == period
        assert whole_episode.weekly_negative(scope) == counting.weekly_negative(scope)


def test_a_scale_history_records_each_past_visit_with_its_own_event(app, ctx):
    """Each specimen and session mark of `demo scale` names its visit, as the desk's do, so a clinic built by it has
    no overdue visit but those nobody recorded: none here (every past visit has its specimen or mark)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import AttendanceRecord, ScheduledVisit, Specimen, VisitKind
    from cm_tracker.services.core.clinic import clinic_date
    from cm_tracker.services.core.visit_links import is_open
    from cm_tracker.tooling.scale import build_scale

    today = date(2026, 11, 20)
    build_scale(20, seed=5, today=today)
    specimens = db.session.execute(select(Specimen.collected_at, ScheduledVisit.due_on, ScheduledVisit.kind,
                                          Specimen.enrollment_id == ScheduledVisit.enrollment_id)
                                   .join(ScheduledVisit, ScheduledVisit.id == Specimen.visit_id)).all()
    assert len(specimens) == db.session.scalar(select(func.count()).select_from(Specimen)) > 100
    assert all(kind == VisitKind.TEST and same and clinic_date(at) == on for at, on, kind, same in specimens)
    marks = db.session.scalar(select(func.count()).select_from(AttendanceRecord)
                              .where(AttendanceRecord.visit_id.is_not(None)))
    assert marks == db.session.scalar(select(func.count()).select_from(AttendanceRecord)) > 0
    assert db.session.scalar(select(func.count()).select_from(ScheduledVisit).where(
        ScheduledVisit.due_on < today, is_open(ScheduledVisit.id))) == 0


def test_admitting_a_patient_after_a_scale_build_gets_a_fresh_id(app, ctx):
    """The builder assigns ids itself; the database's own sequences must move past them (PostgreSQL)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, Program, User
    from cm_tracker.services.usecases.admission import admit_patient
    from cm_tracker.tooling.scale import build_scale

    build_scale(3, seed=8, today=date(2026, 11, 20))
    last = db.session.scalar(select(func.max(Patient.id)))
    admin = db.session.scalar(select(User).where(User.role == "admin"))
    program = db.session.scalar(select(Program).limit(1))
    patient = admit_patient(display_name="New", record_number="NEW-1", program_id=program.id,
                            start_on=date(2026, 11, 16), counselor_id=None, actor=admin)
    assert patient.id == last + 1


def _cache_writes(run) -> list[str]:
    """The INSERT, UPDATE and DELETE statements on the report cache's tables that `run()` issues."""
    from sqlalchemy import event

    from cm_tracker.extensions import db

    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        words = statement.split()
        if words and words[0].upper() in {"INSERT", "UPDATE", "DELETE"} and any(
                table in statement for table in ("event_outcomes", "enrollment_weeks", "enrollment_summaries")):
            seen.append(" ".join(words[:3]))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    return seen


def test_re_evaluating_an_unchanged_history_writes_no_cache_row(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment
    from cm_tracker.services.usecases.reevaluation import reevaluate_and_refresh

    clinic = make_clinic()
    record(clinic, [(0, "N"), (3, "P"), (7, "E"), (10, "N")])
    enrollment = db.session.get(Enrollment, clinic.enrollment_id)
    before = _outcomes(clinic.enrollment_id)
    assert _cache_writes(lambda: (reevaluate_and_refresh(enrollment, because="check", actor=None),
                                  db.session.flush())) == []
    assert _outcomes(clinic.enrollment_id) == before


def test_a_new_result_writes_only_the_rows_it_changes(make_clinic):
    """A late negative between two others adds its own row and updates the later one (its run), nothing else."""
    from cm_tracker.extensions import db
    from cm_tracker.models import EventOutcome

    clinic = make_clinic({"kind": "escalating", "start": 10, "step": 5})
    record(clinic, [(0, "N"), (7, "N"), (14, "N")])
    ids = set(db.session.scalars(select(EventOutcome.id)))
    writes = _cache_writes(lambda: record(clinic, [(3, "N")]))
    assert not any(w.startswith("DELETE") for w in writes)
    assert sorted(w for w in writes if "event_outcomes" in w) == ["INSERT INTO event_outcomes",
                                                               "UPDATE event_outcomes SET"]
    assert ids < set(db.session.scalars(select(EventOutcome.id)))  # the earlier rows kept their ids
    assert [p for _, _, p in _outcomes(clinic.enrollment_id)] == [10, 15, 20, 25]


def test_ledger_totals_stop_before_an_entry_dated_after_the_summary_day():
    from datetime import UTC, datetime

    from cm_tracker.services.queries.reports.summaries import ledger_totals

    end = datetime(2026, 11, 21, 5, tzinfo=UTC)
    entries = [(3, "manual", datetime(2026, 11, 20, tzinfo=UTC), 10, 250), (5, "redemption", end, -40, 0),
               (7, "draw", datetime(2026, 11, 20, tzinfo=UTC), 0, 2000)]
    assert ledger_totals(entries, 9, end) == {"ledger_through_id": 4, "manual_cents": 250, "manual_points": 10,
                                              "redeemed_points": 0, "prize_cents": 0}
    assert ledger_totals(entries[:1] + entries[2:], 9, end)["prize_cents"] == 2000


def test_the_whole_episode_counts_ledger_entries_posted_after_the_summary(app, ctx):
    """A manual adjustment does not re-evaluate: the report adds it live, as the period queries count it."""
    from dataclasses import replace

    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, Patient, Program, User
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.queries.reports import counting, whole_episode
    from cm_tracker.services.queries.reports.outcomes import enrollment_counts, make_scope
    from cm_tracker.services.usecases.adjustments import post_adjustment
    from cm_tracker.tooling.scale import build_scale

    build_scale(12, seed=11, today=clinic_today())
    admin = db.session.scalar(select(User).where(User.username == "scale11admin"))
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.status == "active").limit(1))
    post_adjustment(db.session.get(Patient, enrollment.patient_id), points=20, draws=0, reason="Goodwill",
                    actor=admin)
    program = db.session.get(Program, enrollment.program_id)
    _, scope = make_scope(program.id, None, None, None, clinic_today())
    _, whole = enrollment_counts(scope, program.point_value_cents)
    _, period = enrollment_counts(replace(scope, whole_episode=False), program.point_value_cents)
    assert whole == period
    assert whole_episode.weekly_negative(scope) == counting.weekly_negative(scope)
