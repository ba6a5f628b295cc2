"""Which visits are open, excused or closed on a day, and a patient's next visits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from cm_tracker.extensions import db
from cm_tracker.models import ClinicClosure, Enrollment, Excuse, Patient, ScheduledVisit, User
from cm_tracker.services.core.caseload import caseload_filter
from cm_tracker.services.core.enrollments import active_on
from cm_tracker.services.core.visit_links import is_taken


def open_visits_on(day: date, counselor: User | None = None) -> list[ScheduledVisit]:
    """Visits of `day` with nothing recorded; with `counselor`, only those of the patients on their caseload."""
    query = (select(ScheduledVisit).join(Enrollment, ScheduledVisit.enrollment_id == Enrollment.id)
             .where(ScheduledVisit.due_on == day, *active_on(day), ~is_taken(ScheduledVisit.id))
             .options(joinedload(ScheduledVisit.enrollment).joinedload(Enrollment.patient))
             .order_by(ScheduledVisit.enrollment_id, ScheduledVisit.kind, ScheduledVisit.id))
    if counselor is not None:
        query = query.join(Patient, Enrollment.patient_id == Patient.id).where(caseload_filter(counselor))
    return list(db.session.scalars(query).unique())


def excused_enrollments(day: date) -> set[int]:
    rows = db.session.scalars(select(Excuse.enrollment_id).where(Excuse.excused_on == day,
                                                                 Excuse.revoked_at.is_(None)))
    return set(rows)


def closure_on(day: date) -> ClinicClosure | None:
    return db.session.scalar(select(ClinicClosure).where(ClinicClosure.closed_on == day))


def recent_closures(limit: int = 30) -> list[ClinicClosure]:
    return list(db.session.scalars(select(ClinicClosure).order_by(ClinicClosure.closed_on.desc()).limit(limit)))


SHOWN_AFTER = 6


def visits_from(enrollment_id: int, day: date, limit: int = SHOWN_AFTER) -> list[ScheduledVisit]:
    return list(db.session.scalars(select(ScheduledVisit).where(ScheduledVisit.enrollment_id == enrollment_id,
                                                                ScheduledVisit.due_on >= day)
                                   .order_by(ScheduledVisit.due_on, ScheduledVisit.kind, ScheduledVisit.id)
                                   .limit(limit)))
