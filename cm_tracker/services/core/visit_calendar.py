"""The visit calendar: which days of a programme's weeks are a patient's visit days, and the visits they schedule.

A visit plan's parts replace the default days in their weeks; the patient's own days (chosen at enrolment or changed
later) replace the programme's default days elsewhere.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cm_tracker.models import Enrollment, Program, ScheduledVisit, TargetKind, VisitKind
from cm_tracker.services.core.errors import ValidationFailed

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekday_codes(visit_days: list[str], message: str) -> list[str]:
    """The days in calendar order (each once), or `message` with a field error when a code is not a weekday."""
    if any(day not in WEEKDAYS for day in visit_days):
        raise ValidationFailed(message, fields={"visit_days": "Use mon, tue, wed, thu, fri, sat or sun."})
    return [day for day in WEEKDAYS if day in visit_days]


def visit_dates(start_on: date, weeks: int, visit_days: list[str],
                visit_plan: list[dict[str, Any]] | None = None) -> list[date]:
    """Every visit day of the programme's weeks, counted from the start date (week 1 is its first seven days).

    `visit_plan` parts ({"from_week", "to_week", "days"}) replace the default days in their weeks, so that a
    California-like programme (2 visits a week in weeks 1-12, then 1 in 13-24) schedules its 36 tests.
    """
    plan = visit_plan or []
    dates: list[date] = []
    for week in range(1, weeks + 1):
        days = next((p["days"] for p in plan if p["from_week"] <= week <= p["to_week"]), visit_days)
        first = start_on + timedelta(weeks=week - 1)
        dates.extend(d for d in (first + timedelta(days=n) for n in range(7)) if WEEKDAYS[d.weekday()] in days)
    return dates


def visits_for(enrollment: Enrollment, program: Program) -> list[ScheduledVisit]:
    """One test visit a visit day when the programme reinforces abstinence (one specimen serves every abstinence
    target), and one session a visit day for each attendance target."""
    dates = visit_dates(enrollment.start_on, program.weeks, enrollment.visit_days or program.visit_days,
                        program.visit_plan)
    kinds = {t.kind for t in program.targets}
    visits = [ScheduledVisit(enrollment_id=enrollment.id, due_on=d, kind=VisitKind.TEST)
              for d in dates if TargetKind.ABSTINENCE in kinds]
    for target in program.targets:
        if target.kind == TargetKind.ATTENDANCE:
            visits += [ScheduledVisit(enrollment_id=enrollment.id, due_on=d, kind=VisitKind.SESSION,
                                      target_key=target.key) for d in dates]
    return visits


def last_programme_day(enrollment: Enrollment, program: Program) -> date:
    """The enrollment's last day: its end date once ended, else the last day of the programme's last week."""
    return enrollment.end_on or enrollment.start_on + timedelta(weeks=program.weeks, days=-1)
