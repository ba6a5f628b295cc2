"""Missed and excused visits (docs/rules.md 3.2): excuses, clinic closures and the nightly day-closing job.

A visit nobody recorded becomes a missed test (a failure: the streak resets) or, when an excuse or a closure covers
its day, an excused one (neutral). Excuses and closures entered after the day was closed turn the missed records
into excused ones through the ordinary correction, so the history is re-evaluated and adjustments are posted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from cm_tracker.engine.text import count
from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    AttendanceStatus,
    ClinicClosure,
    Enrollment,
    Excuse,
    LedgerEntry,
    Patient,
    ScheduledVisit,
    Specimen,
    SpecimenStatus,
    User,
    VisitKind,
)
from cm_tracker.services.core import audit
from cm_tracker.services.core.clinic import clinic_today, start_of_day
from cm_tracker.services.core.enrollments import enrollment_covering
from cm_tracker.services.core.errors import Conflict, ServiceError, ValidationFailed
from cm_tracker.services.core.excuses import EXCUSED_ATTENDANCE, EXCUSED_SPECIMEN, closure_text, excuse_text
from cm_tracker.services.core.ledger import lock_enrollment
from cm_tracker.services.core.plausible_dates import too_far_ahead
from cm_tracker.services.queries.visits import closure_on, excused_enrollments, open_visits_on
from cm_tracker.services.usecases.attendance import apply_attendance_correction, record_attendance
from cm_tracker.services.usecases.reevaluation import reevaluate_and_refresh
from cm_tracker.services.usecases.specimens import SpecimenInput, apply_specimen_correction, record_specimen

MAX_REASON = 500


@dataclass
class DayClosed:
    day: date
    missed: int = 0
    excused: int = 0
    sessions_unexcused: int = 0
    sessions_excused: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return (f"close-day {self.day.isoformat()}: {count(self.missed, 'test')} missed, "
                f"{count(self.excused, 'test')} excused, {count(self.sessions_unexcused, 'session')} unexcused, "
                f"{count(self.sessions_excused, 'session')} excused, {count(len(self.errors), 'error')}")


@dataclass(frozen=True)
class ExcuseResult:
    """The excuse or closure written, and the adjustments its corrections posted (empty when given in advance)."""

    record: Excuse | ClinicClosure
    corrected: int
    adjustments: list[LedgerEntry]


def end_of_clinic_day(day: date) -> datetime:
    """The moment a closed day's unrecorded visits are dated: its last minute, after anything recorded that day."""
    return start_of_day(day + timedelta(days=1)) - timedelta(minutes=1)


def close_day(day: date, *, actor: User | None = None, counselor: User | None = None) -> DayClosed:
    """Mark every still-unrecorded visit of a finished clinic day: missed, or excused when an excuse or a closure
    covers it. One transaction per visit (the recording services commit); running it again finds nothing to do.
    With `counselor`, only that counselor's caseload (a counselor closing their own day in the browser)."""
    if day >= clinic_today():
        raise ValidationFailed("Only a finished day can be closed.", fields={"day": "Choose a day before today."})
    closure, excused = closure_on(day), excused_enrollments(day)
    done = DayClosed(day)
    for visit in open_visits_on(day, counselor):
        is_excused = closure is not None or visit.enrollment_id in excused
        why = (closure.reason if closure else "excused") if is_excused else "no result recorded on the day"
        try:
            _close_visit(visit, is_excused, f"Closed by the day-closing job: {why}", actor)
        except ServiceError as exc:
            db.session.rollback()
            done.errors.append(f"visit {visit.id}: {exc.message}")
            continue
        _count(done, visit.kind, is_excused)
    audit.record("visits.close_day", user=actor, object_type="day", object_id=day.isoformat(),
                 detail={"summary": done.summary, "caseload_of": counselor.id if counselor else None})
    db.session.commit()
    return done


def _close_visit(visit: ScheduledVisit, is_excused: bool, note: str, actor: User | None) -> None:
    patient, moment = visit.enrollment.patient, end_of_clinic_day(visit.due_on)
    if visit.kind == VisitKind.TEST:
        status = SpecimenStatus.EXCUSED if is_excused else SpecimenStatus.MISSED
        record_specimen(patient, SpecimenInput(collected_at=moment, status=status, note=note, visit_id=visit.id),
                        actor=actor)
    else:
        mark = AttendanceStatus.EXCUSED if is_excused else AttendanceStatus.UNEXCUSED
        record_attendance(patient, occurred_at=moment, target_key=visit.target_key or "", status=mark,
                          actor=actor, note=note, visit_id=visit.id)


def _count(done: DayClosed, kind: VisitKind, is_excused: bool) -> None:
    if kind == VisitKind.TEST:
        if is_excused:
            done.excused += 1
        else:
            done.missed += 1
    elif is_excused:
        done.sessions_excused += 1
    else:
        done.sessions_unexcused += 1


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValidationFailed("Give the reason.", fields={"reason": f"Give a reason of 1 to {MAX_REASON} characters."})
    return reason


def _plausible(on: date, *, closure: bool = False) -> None:
    """At most a year ahead (core.plausible_dates); a closure not before the first enrolment began (or today, before
    anyone is enrolled), when it could excuse nobody's visits. An excuse's earliest day is its enrolment's start."""
    today = clinic_today()
    problem = too_far_ahead(on, today)
    if problem is None and closure:
        first = min(db.session.scalar(select(func.min(Enrollment.start_on))) or today, today)
        if on < first:
            problem = f"No patient was enrolled yet on that day: choose {first:%Y-%m-%d} or later."
    if problem:
        raise ValidationFailed("Choose another day.", fields={"on": problem})


def excuse_day(patient: Patient, *, on: date, reason: str, actor: User) -> ExcuseResult:
    """Excuse a patient's visits of one day, in advance or after; visits already marked missed (or unexcused) are
    corrected to excused with this reason, which re-evaluates the history and posts the adjustments."""
    reason = _reason(reason)
    _plausible(on)
    enrollment = enrollment_covering(patient, on)  # never before the enrolment's start, nor after its end
    if db.session.scalar(select(Excuse.id).where(Excuse.enrollment_id == enrollment.id, Excuse.excused_on == on,
                                                 Excuse.revoked_at.is_(None))):
        raise Conflict(f"{patient.display_name} is already excused on {on:%Y-%m-%d}.", code="duplicate")
    excuse = Excuse(enrollment_id=enrollment.id, excused_on=on, reason=reason, created_by_id=actor.id)
    db.session.add(excuse)
    corrected, posted = _excuse_records(on, excuse_text(reason), actor, enrollment_id=enrollment.id)
    excuse.is_in_advance = corrected == 0 and on >= clinic_today()
    db.session.flush()
    if corrected == 0:
        # Nothing was corrected, so nothing refreshed the report cache; a past visit left unrecorded now counts as
        # excused in the outcomes at once (its intent-to-treat denominator), not at the enrolment's next write.
        lock_enrollment(enrollment.id)
        posted = reevaluate_and_refresh(enrollment, because=excuse_text(reason), actor=actor)
    audit.record("excuse.create", user=actor, patient_id=patient.id, object_type="excuse", object_id=excuse.id,
                 detail={"on": on.isoformat(), "corrected": corrected})
    db.session.commit()
    return ExcuseResult(excuse, corrected, posted)


def close_clinic(*, on: date, reason: str, actor: User) -> ExcuseResult:
    """Record a day the clinic was closed: every visit that day is excused, including any already marked missed."""
    reason = _reason(reason)
    _plausible(on, closure=True)
    if closure_on(on) is not None:
        raise Conflict(f"The clinic is already recorded as closed on {on:%Y-%m-%d}.", code="duplicate")
    closure = ClinicClosure(closed_on=on, reason=reason, created_by_id=actor.id)
    db.session.add(closure)
    corrected, posted = _excuse_records(on, closure_text(reason), actor)
    db.session.flush()
    audit.record("clinic.close", user=actor, object_type="clinic_closure", object_id=closure.id,
                 detail={"on": on.isoformat(), "corrected": corrected})
    db.session.commit()
    return ExcuseResult(closure, corrected, posted)


def _excuse_records(on: date, reason: str, actor: User, *,
                    enrollment_id: int | None = None) -> tuple[int, list[LedgerEntry]]:
    """Correct the day's missed specimens and unexcused session marks to excused, in the caller's transaction."""
    begin, end = start_of_day(on), start_of_day(on + timedelta(days=1))
    specimens = select(Specimen).where(Specimen.status.in_(EXCUSED_SPECIMEN), Specimen.collected_at >= begin,
                                       Specimen.collected_at < end)
    marks = select(AttendanceRecord).where(AttendanceRecord.status.in_(EXCUSED_ATTENDANCE),
                                           AttendanceRecord.occurred_at >= begin, AttendanceRecord.occurred_at < end)
    if enrollment_id is not None:
        specimens = specimens.where(Specimen.enrollment_id == enrollment_id)
        marks = marks.where(AttendanceRecord.enrollment_id == enrollment_id)
    posted: list[LedgerEntry] = []
    count = 0
    for specimen in db.session.scalars(specimens.order_by(Specimen.id)).all():
        posted += apply_specimen_correction(specimen, version=specimen.version, reason=reason,
                                            changes={"status": EXCUSED_SPECIMEN[specimen.status]},
                                            actor=actor).adjustments
        count += 1
    for mark in db.session.scalars(marks.order_by(AttendanceRecord.id)).all():
        posted += apply_attendance_correction(mark, version=mark.version, reason=reason,
                                              changes={"status": EXCUSED_ATTENDANCE[mark.status]},
                                              actor=actor).adjustments
        count += 1
    return count, posted
