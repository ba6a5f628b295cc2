"""Which visits are open, excused or closed on a day, and a patient's next visits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import joinedload

from cm_tracker.extensions import db
from cm_tracker.models import ClinicClosure, Enrollment, Excuse, Patient, ScheduledVisit, User
from cm_tracker.services.core.caseload import caseload_filter
from cm_tracker.services.core.enrollments import active_on
from cm_tracker.services.core.excuses import closure_text, excuse_text
from cm_tracker.services.core.visit_links import is_open


def open_visits_on(day: date, counselor: User | None = None) -> list[ScheduledVisit]:
    """Visits of `day` with nothing recorded; with `counselor`, only those of the patients on their caseload."""
    query = (select(ScheduledVisit).join(Enrollment, ScheduledVisit.enrollment_id == Enrollment.id)
             .where(ScheduledVisit.due_on == day, *active_on(day), is_open(ScheduledVisit.id))
             .options(joinedload(ScheduledVisit.enrollment).joinedload(Enrollment.patient))
             .order_by(ScheduledVisit.enrollment_id, ScheduledVisit.kind, ScheduledVisit.id))
    if counselor is not None:
        query = query.join(Patient, Enrollment.patient_id == Patient.id).where(caseload_filter(counselor))
    return list(db.session.scalars(query).unique())


def excused_enrollments(day: date) -> set[int]:
    rows = db.session.scalars(select(Excuse.enrollment_id).where(Excuse.excused_on == day,
                                                                 Excuse.revoked_at.is_(None)))
    return set(rows)


def excused_visit_days(visits: Iterable[ScheduledVisit]) -> dict[tuple[int, date], str]:
    """Why each of these (unrecorded) visits' days is excused, keyed by (enrolment, day): the enrolment's excuse, else
    the clinic's closure, worded as core.excuses words the record the day-closing job will write. One statement."""
    wanted = {(v.enrollment_id, v.due_on) for v in visits}
    if not wanted:
        return {}
    ids, days = {eid for eid, _ in wanted}, {day for _, day in wanted}
    excuses = select(Excuse.enrollment_id, Excuse.excused_on, Excuse.reason, literal(0).label("rank")).where(
        Excuse.enrollment_id.in_(ids), Excuse.excused_on.in_(days), Excuse.revoked_at.is_(None))
    closures = select(literal(None).label("enrollment_id"), ClinicClosure.closed_on, ClinicClosure.reason,
                      literal(1).label("rank")).where(ClinicClosure.closed_on.in_(days))
    found: dict[tuple[int, date], str] = {}
    for eid, day, reason, rank in sorted(db.session.execute(union_all(excuses, closures)), key=lambda r: -r[3]):
        words = closure_text(reason) if rank else excuse_text(reason)
        for key in [(eid, day)] if eid is not None else [k for k in wanted if k[1] == day]:
            found[key] = words  # an excuse (rank 0, applied last) names the day before a closure does
    return {key: why for key, why in found.items() if key in wanted}


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
