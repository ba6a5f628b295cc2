"""Changing an enrolled patient's visit days from a chosen date on (a new job, new hours), the future visits
regenerated for the new days: the fixed days of a programme's weeks, and the days of each stretch of a visit plan
that counts visits per week (California-like: two days in weeks 1-12, one in weeks 13-24), for every programme.

Only what is still to come changes: visits before the chosen date, and any visit something is attached to (a
specimen, a session mark, an excuse), stay as they are, so no recorded event loses its visit and the ledger is not
touched. The day-closing job only marks visits that exist, so a day that is no longer a visit day is never missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

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
from cm_tracker.services.core.visit_calendar import (
    Part,
    chosen_plan,
    last_programme_day,
    part_for,
    patient_plan,
    per_week,
    plan_words,
    visits_for,
    week_of,
    weekday_codes,
)
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


def change_visit_days(patient: Patient, *, visit_days: list[str] | None, from_on: date, version: int, actor: User,
                      today: date, visit_plan: list[dict[str, Any]] | None = None) -> DaysChanged:
    """Give the patient's active enrollment new visit days from `from_on` (today or later, within the programme's
    weeks): `visit_days` for the weeks outside a visit plan, `visit_plan` ([{"from_week", "to_week", "days"}]) for
    the plan's stretches of weeks, each with as many days as the plan has visits a week. Either may be left out
    (None) to keep what the patient has. `version` is the patient's: a stale one is refused so that two desks
    cannot overwrite each other."""
    enrollment = current_enrollment(patient)
    if enrollment is None or enrollment.status != EnrollmentStatus.ACTIVE:
        raise Conflict(f"{patient.display_name} has no active enrollment whose visit days could change.",
                       code="not_enrolled")
    program = enrollment.program
    days, plan = _checked(visit_days, visit_plan, from_on, enrollment, program, today)
    lock_enrollment(enrollment.id)  # the recording services take it too: no event can claim a visit we delete
    claim_version(patient, version, what="patient record")  # after the enrollment lock, as every recording takes it
    before, plan_before = list(enrollment.visit_days or program.visit_days), patient_plan(enrollment, program)
    enrollment.visit_days, enrollment.visit_plan = days, plan
    removed, added = _regenerate(enrollment, program, from_on)
    detail = {"before": before, "after": days, "from": from_on.isoformat(), "removed": removed, "added": added,
              "version": patient.version}
    if plan is not None:
        detail |= {"plan_before": _plan_days(plan_before), "plan_after": _plan_days(plan)}
    audit.record("enrollment.visit_days", user=actor, patient_id=patient.id, object_type="enrollment",
                 object_id=enrollment.id, detail=detail)
    db.session.commit()
    return DaysChanged(enrollment, removed, added, visits_from(enrollment.id, from_on))


def _plan_days(plan: list[Part] | None) -> list[list[str]]:
    return [list(p["days"]) for p in plan or []]


def _checked(visit_days: list[str] | None, visit_plan: object, from_on: date, enrollment: Enrollment,
             program: Program, today: date) -> tuple[list[str], list[Part] | None]:
    fields: dict[str, str] = {}
    days = list(enrollment.visit_days or program.visit_days)
    plan = patient_plan(enrollment, program)
    first_week = max(1, week_of(enrollment.start_on, from_on))
    if visit_days is not None or visit_plan is None:
        days = _checked_days(visit_days or [], fields)
    if visit_plan is not None:
        if plan is None:
            fields["visit_plan"] = "This programme has no visit plan: choose the patient's visit days instead."
        else:
            plan = chosen_plan(plan, visit_plan, fields, first_week=first_week)
    last = last_programme_day(enrollment, program)
    if from_on < today:
        fields["from"] = f"Choose today ({today:%a %d %b %Y}) or a later day: past visits stay as they were."
    elif from_on > last:
        fields["from"] = f"The enrollment ends on {last:%a %d %b %Y}; choose a day up to then."
    elif visit_plan is None and "visit_days" not in fields and not _own_days_used(plan, program, first_week):
        fields["visit_days"] = ("The programme's visit plan counts the visits of every week from this date on "
                                f"({plan_words(plan)}): choose the patient's days for each stretch of weeks instead.")
    if fields:
        raise ValidationFailed(REFUSED, fields=fields)
    return days, plan


def _checked_days(visit_days: list[str], fields: dict[str, str]) -> list[str]:
    if not visit_days:
        fields["visit_days"] = "Choose at least one visit day."
        return []
    try:
        return weekday_codes(visit_days, REFUSED)
    except ValidationFailed as exc:
        fields.update(exc.fields)
        return []


def _own_days_used(plan: list[Part] | None, program: Program, first_week: int) -> bool:
    """Whether any programme week from `first_week` on follows the patient's fixed days rather than the plan."""
    return any(part_for(plan, week) is None for week in range(first_week, program.weeks + 1))


def _regenerate(enrollment: Enrollment, program: Program, from_on: date) -> tuple[int, int]:
    """Delete the open visits from `from_on` on that the new days do not have, add the ones they lack; visits with
    something attached are kept, and a new visit that would duplicate one of them is not added (the unique key)."""
    wanted = _first_week_kept_whole(enrollment, program, from_on,
                                    {_key(v): v for v in visits_for(enrollment, program) if v.due_on >= from_on})
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


def _first_week_kept_whole(enrollment: Enrollment, program: Program, from_on: date,
                           wanted: dict[VisitKey, ScheduledVisit]) -> dict[VisitKey, ScheduledVisit]:
    """A change in the middle of a planned week keeps that week's count: the visit days it had before `from_on`
    count, and only the first of the new days fill the rest (Monday kept, Tuesday and Friday chosen from Wednesday:
    Monday and Friday, still two a week)."""
    week = week_of(enrollment.start_on, from_on)
    part = part_for(patient_plan(enrollment, program), week)
    if part is None:
        return wanted
    week_start = enrollment.start_on + timedelta(weeks=week - 1)
    earlier = set(db.session.scalars(select(ScheduledVisit.due_on).where(
        ScheduledVisit.enrollment_id == enrollment.id, ScheduledVisit.due_on >= week_start,
        ScheduledVisit.due_on < from_on)))
    new_days = sorted({v.due_on for v in wanted.values() if v.due_on < week_start + timedelta(days=7)})
    dropped = set(new_days[max(0, per_week(part) - len(earlier)):])
    return {key: v for key, v in wanted.items() if v.due_on not in dropped}


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
