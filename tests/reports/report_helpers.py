"""Building hand-made histories for the report tests: real services, real dates (tests/factories.py)."""

from __future__ import annotations

from datetime import date, timedelta

from factories import START, at, specimen


def record(clinic, history: list[tuple[int, str]], patient_id: int | None = None) -> list[int]:
    """Record (day, code) specimens through usecases.specimens.record_specimen; returns the specimen ids."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.specimens import record_specimen

    patient = db.session.get(Patient, patient_id or clinic.patient_id)
    actor = db.session.get(User, clinic.counselor_id)
    return [record_specimen(patient, specimen(code, collected_at=at(day)), actor=actor).specimen.id
            for day, code in history]


def schedule(enrollment_id: int, days: list[int]) -> None:
    """Scheduled test visits on these programme days (make_clinic schedules none)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import ScheduledVisit, VisitKind

    db.session.add_all([ScheduledVisit(enrollment_id=enrollment_id, due_on=START + timedelta(days=d),
                                       kind=VisitKind.TEST) for d in days])
    db.session.commit()


def excuse(enrollment_id: int, day: int) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Excuse

    db.session.add(Excuse(enrollment_id=enrollment_id, excused_on=START + timedelta(days=day), reason="Court date"))
    db.session.commit()


def another_patient(clinic, name: str = "Second") -> tuple[int, int]:
    """A second patient in the clinic's programme: (patient id, enrollment id)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, Patient

    patient = Patient(display_name=name, record_number=f"R{clinic.program_id}-{name}", counselor_id=clinic.counselor_id)
    db.session.add(patient)
    db.session.flush()
    enrollment = Enrollment(patient_id=patient.id, program_id=clinic.program_id, start_on=START,
                            visit_days=["mon", "thu"])
    db.session.add(enrollment)
    db.session.commit()
    return patient.id, enrollment.id


def report(clinic, start: date | None = None, end: date | None = None, counselor_id: int | None = None):
    from cm_tracker.services.core.clinic import clinic_today
    from cm_tracker.services.queries.reports.outcomes import make_scope, outcome_report

    program, scope = make_scope(clinic.program_id, counselor_id, start, end, clinic_today())
    return outcome_report(program, scope)
