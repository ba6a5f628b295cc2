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
    from cm_tracker.models import EventOutcome
    from cm_tracker.services.usecases.report_cache import rebuild_all

    clinic = make_clinic()
    record(clinic, [(0, "N"), (3, "P"), (7, "E")])
    before = _outcomes(clinic.enrollment_id)
    db.session.execute(EventOutcome.__table__.delete())
    db.session.commit()
    assert rebuild_all() == 1
    assert _outcomes(clinic.enrollment_id) == before


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
    from dataclasses import replace

    from cm_tracker.extensions import db
    from cm_tracker.models import Program
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.queries.reports.outcomes import enrollment_counts, make_scope
    from cm_tracker.tooling.scale import build_scale

    build_scale(40, seed=9, today=clinic_today())
    for program in db.session.scalars(select(Program)).all():
        _, scope = make_scope(program.id, None, None, None, clinic_today())
        assert scope.whole_episode
        _, whole = enrollment_counts(scope, program.point_value_cents)
        _, period = enrollment_counts(replace(scope, whole_episode=False), program.point_value_cents)
        assert whole == period


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
