"""Changing an enrolled patient's visit days from a chosen date on (a new job, new hours), the future visits
regenerated for the new days.

Only what is still to come changes: visits before the chosen date, and any visit something is attached to (a
specimen, a session mark, an excuse), stay as they are, so no recorded event loses its visit and the ledger is not
touched. The day-closing job only marks visits that exist, so a day that is no longer a visit day is never missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, exists, select

from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    Enrollment,
    EnrollmentStatus,
    Excuse,
    Patient,
    Program,
    ScheduledVisit,
    Specimen,
    User,
)
from cm_tracker.services.core import audit
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.ledger import lock_enrollment
from cm_tracker.services.core.versions import claim_version
from cm_tracker.services.core.visit_calendar import last_programme_day, visits_for, weekday_codes
from cm_tracker.services.queries.visits import visits_from

REFUSED = "The visit days were not changed."

VisitKey = tuple[date, str, str | None]


@dataclass(frozen=True)
class DaysChanged:
    """The enrollment with its new days, how many future visits went and came, and the first visits from the
    chosen date on (to show the counselor and the patient what the new schedule looks like)."""

    enrollment: Enrollment
    removed: int
    added: int
    upcoming: list[ScheduledVisit]


def change_visit_days(patient: Patient, *, visit_days: list[str], from_on: date, version: int, actor: User,
                      today: date) -> DaysChanged:
    """Give the patient's active enrollment new default visit days from `from_on` (today or later, within the
    programme's weeks). A programme's visit plan keeps its own days in its weeks, as at enrolment. `version` is
    the patient's: a stale one is refused so that two desks cannot overwrite each other."""
    enrollment = current_enrollment(patient)
    if enrollment is None or enrollment.status != EnrollmentStatus.ACTIVE:
        raise Conflict(f"{patient.display_name} has no active enrollment whose visit days could change.",
                       code="not_enrolled")
    program = enrollment.program
    days = _checked(visit_days, from_on, enrollment, program, today)
    lock_enrollment(enrollment.id)  # the recording services take it too: no event can claim a visit we delete
    claim_version(patient, version, what="patient record")  # after the enrollment lock, as every recording takes it
    before = list(enrollment.visit_days or program.visit_days)
    enrollment.visit_days = days
    removed, added = _regenerate(enrollment, program, from_on)
    audit.record("enrollment.visit_days", user=actor, patient_id=patient.id, object_type="enrollment",
                 object_id=enrollment.id, detail={"before": before, "after": days, "from": from_on.isoformat(),
                                                  "removed": removed, "added": added, "version": patient.version})
    db.session.commit()
    return DaysChanged(enrollment, removed, added, visits_from(enrollment.id, from_on))


def _checked(visit_days: list[str], from_on: date, enrollment: Enrollment, program: Program,
             today: date) -> list[str]:
    fields: dict[str, str] = {}
    days: list[str] = []
    if not visit_days:
        fields["visit_days"] = "Choose at least one visit day."
    else:
        try:
            days = weekday_codes(visit_days, REFUSED)
        except ValidationFailed as exc:
            fields.update(exc.fields)
    last = last_programme_day(enrollment, program)
    if from_on < today:
        fields["from"] = f"Choose today ({today:%a %d %b %Y}) or a later day: past visits stay as they were."
    elif from_on > last:
        fields["from"] = f"The enrollment ends on {last:%a %d %b %Y}; choose a day up to then."
    elif days and not _own_days_used(enrollment, program, from_on):
        fields["visit_days"] = ("The programme's visit plan sets the days of every week from this date on, so "
                                "the patient's own days would change no visit.")
    if fields:
        raise ValidationFailed(REFUSED, fields=fields)
    return days


def _own_days_used(enrollment: Enrollment, program: Program, from_on: date) -> bool:
    """Whether any programme week from `from_on` on follows the patient's days rather than a visit plan part."""
    first_week = max(1, (from_on - enrollment.start_on).days // 7 + 1)
    plan = program.visit_plan or []
    return any(not any(p["from_week"] <= week <= p["to_week"] for p in plan)
               for week in range(first_week, program.weeks + 1))


def _regenerate(enrollment: Enrollment, program: Program, from_on: date) -> tuple[int, int]:
    """Delete the open visits from `from_on` on that the new days do not have, add the ones they lack; visits with
    something attached are kept, and a new visit that would duplicate one of them is not added (the unique key)."""
    wanted = {_key(v): v for v in visits_for(enrollment, program) if v.due_on >= from_on}
    attached = _attached(enrollment.id, from_on)
    open_ids: list[int] = []
    kept: set[VisitKey] = set()
    for visit in db.session.scalars(select(ScheduledVisit).where(ScheduledVisit.enrollment_id == enrollment.id,
                                                                 ScheduledVisit.due_on >= from_on)):
        if _key(visit) in wanted or visit.id in attached:
            kept.add(_key(visit))
        else:
            open_ids.append(visit.id)
    if open_ids:
        db.session.execute(delete(ScheduledVisit).where(ScheduledVisit.id.in_(open_ids)))
    new = [v for key, v in wanted.items() if key not in kept]
    db.session.add_all(new)
    return len(open_ids), len(new)


def _key(visit: ScheduledVisit) -> VisitKey:
    return visit.due_on, str(visit.kind), visit.target_key


def _attached(enrollment_id: int, from_on: date) -> set[int]:
    """Visits from `from_on` on that something refers to: every foreign key to scheduled_visits (specimens, session
    marks, excuses), and any visit on a day the patient is excused, since excuses are taken by the day."""
    visit = ScheduledVisit
    mine = [visit.enrollment_id == enrollment_id, visit.due_on >= from_on]
    excused_day = exists().where(Excuse.enrollment_id == enrollment_id, Excuse.excused_on == visit.due_on,
                                 Excuse.revoked_at.is_(None))
    referred = (exists().where(Specimen.visit_id == visit.id) | exists().where(AttendanceRecord.visit_id == visit.id)
                | exists().where(Excuse.visit_id == visit.id) | excused_day)
    return set(db.session.scalars(select(visit.id).where(*mine, referred)))
