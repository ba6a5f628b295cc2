"""The visit calendar: which days of a programme's weeks are a patient's visit days, and the visits they schedule.

A programme either has fixed visit days (three a week, Monday, Wednesday and Friday) or a visit plan that counts
visits per week by week range (California-like: 2 a week in weeks 1-12, 1 a week in weeks 13-24), or both: weeks
outside the plan use the fixed days. Each enrollment keeps its own days: `visit_days` for the fixed weeks, and
`visit_plan` (a copy of the programme's plan with the patient's chosen days per part) for the planned weeks, so that
a later change to the programme's plan never moves a current patient's visits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from cm_tracker.models import Enrollment, Program, ScheduledVisit, TargetKind, VisitKind
from cm_tracker.services.core.errors import ValidationFailed

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The days a plan part gets when neither it nor the programme's days say (spread through the week, Monday first,
# so that two visits a week are Monday and Thursday, as in the California-like preset).
SPREAD = {1: ("mon",), 2: ("mon", "thu"), 3: ("mon", "wed", "fri"), 4: ("mon", "tue", "thu", "fri"),
          5: WEEKDAYS[:5], 6: WEEKDAYS[:6], 7: WEEKDAYS}
DAY_WORDS = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
             "sat": "Saturday", "sun": "Sunday"}

Part = dict[str, Any]  # {"from_week", "to_week", "per_week", "days"}


def weekday_codes(visit_days: list[str], message: str) -> list[str]:
    """The days in calendar order (each once), or `message` with a field error when a code is not a weekday."""
    if any(day not in WEEKDAYS for day in visit_days):
        raise ValidationFailed(message, fields={"visit_days": "Use mon, tue, wed, thu, fri, sat or sun."})
    return [day for day in WEEKDAYS if day in visit_days]


def per_week(part: Mapping[str, Any]) -> int:
    """Visits a week in a plan part; a part stored before plans counted visits has only its days."""
    return int(part.get("per_week") or len(part.get("days") or ()))


def default_days(count: int, programme_days: Sequence[str]) -> list[str]:
    """The days a patient gets for `count` visits a week unless the clinic chooses others: the first `count` of the
    programme's visit days when it has that many, else days spread through the week (SPREAD)."""
    ordered = [d for d in WEEKDAYS if d in programme_days]
    return ordered[:count] if len(ordered) >= count else list(SPREAD[count])


def normalised_plan(plan: Sequence[Mapping[str, Any]] | None, programme_days: Sequence[str]) -> list[Part] | None:
    """The plan as stored: each part with its visits per week and its default days (call after validation)."""
    if not plan:
        return None
    parts = []
    for part in plan:
        count = per_week(part)
        days = part.get("days") or default_days(count, programme_days)
        parts.append({"from_week": part["from_week"], "to_week": part["to_week"], "per_week": count,
                      "days": [d for d in WEEKDAYS if d in days]})
    return parts


def patient_plan(enrollment: Enrollment, program: Program) -> list[Part] | None:
    """The enrollment's own plan, else (an enrollment made before it kept one) the programme's."""
    if enrollment.visit_plan is not None:
        return [dict(p) for p in enrollment.visit_plan]
    return normalised_plan(program.visit_plan, program.visit_days)


def week_of(start_on: date, day: date) -> int:
    """The programme week of `day` (week 1 is the start date's first seven days)."""
    return (day - start_on).days // 7 + 1


def part_for(plan: Sequence[Mapping[str, Any]] | None, week: int) -> Mapping[str, Any] | None:
    return next((p for p in plan or () if p["from_week"] <= week <= p["to_week"]), None)


def stretches_to_come(plan: Sequence[Mapping[str, Any]] | None, start_on: date, day: date) -> list[Part]:
    """The plan's parts whose weeks are not over on `day`: the ones whose days can still change."""
    week = week_of(start_on, day)
    return [dict(p) for p in plan or () if p["to_week"] >= week]


def has_fixed_weeks(plan: Sequence[Mapping[str, Any]] | None, weeks: int) -> bool:
    """Whether some week of the programme is outside the plan, so follows the fixed visit days."""
    return any(part_for(plan, week) is None for week in range(1, weeks + 1))


def visit_dates(start_on: date, weeks: int, visit_days: list[str],
                visit_plan: Sequence[Mapping[str, Any]] | None = None) -> list[date]:
    """Every visit day of the programme's weeks, counted from the start date (week 1 is its first seven days).

    `visit_plan` parts ({"from_week", "to_week", "days"}) replace the default days in their weeks, so that a
    California-like programme (2 visits a week in weeks 1-12, then 1 in 13-24) schedules its 36 tests.
    """
    dates: list[date] = []
    for week in range(1, weeks + 1):
        part = part_for(visit_plan, week)
        days = part["days"] if part is not None else visit_days
        first = start_on + timedelta(weeks=week - 1)
        dates.extend(d for d in (first + timedelta(days=n) for n in range(7)) if WEEKDAYS[d.weekday()] in days)
    return dates


def visits_for(enrollment: Enrollment, program: Program) -> list[ScheduledVisit]:
    """One test visit a visit day when the programme reinforces abstinence (one specimen serves every abstinence
    target), and one session a visit day for each attendance target."""
    dates = visit_dates(enrollment.start_on, program.weeks, enrollment.visit_days or program.visit_days,
                        patient_plan(enrollment, program))
    kinds = {t.kind for t in program.targets}
    visits = [ScheduledVisit(enrollment_id=enrollment.id, due_on=d, kind=VisitKind.TEST)
              for d in dates if TargetKind.ABSTINENCE in kinds]
    for target in program.targets:
        if target.kind == TargetKind.ATTENDANCE:
            visits += [ScheduledVisit(enrollment_id=enrollment.id, due_on=d, kind=VisitKind.SESSION,
                                      target_key=target.key) for d in dates]
    return visits


def chosen_plan(current: list[Part], choice: object, errors: dict[str, str], *, first_week: int = 1) -> list[Part]:
    """`current` with the days of `choice` ([{"from_week", "to_week", "days"}], some or all of its parts; a
    `per_week` as the enrollment gives it may come along, unchanged), each
    checked against the plan: a part of it, weekdays, exactly as many days as the part has visits a week. A part
    whose weeks end before `first_week` keeps its days (its visits are past). Problems go to `errors`, keyed
    "visit_plan.<i>..." by the position in `choice`."""
    parts = [dict(p) for p in current]
    if not isinstance(choice, list) or not all(isinstance(p, dict) for p in choice):
        errors.setdefault("visit_plan", "Must be a list of {from_week, to_week, days}, one per stretch of weeks.")
        return parts
    for i, wanted in enumerate(choice):
        if set(wanted) - {"from_week", "to_week", "per_week", "days"}:
            errors.setdefault(f"visit_plan.{i}", "Must be an object with from_week, to_week and days.")
            continue
        part = next((p for p in parts if (p["from_week"], p["to_week"]) == (wanted.get("from_week"),
                                                                            wanted.get("to_week"))), None)
        if part is None:
            errors.setdefault(f"visit_plan.{i}", "Not a stretch of this programme's visit plan; it has "
                                                 f"{plan_words(current)}.")
            continue
        if wanted.get("per_week", part["per_week"]) != part["per_week"]:
            errors.setdefault(f"visit_plan.{i}.per_week", f"The programme has {part['per_week']} a week in "
                                                          f"{_weeks(part)}; the patient's days cannot change that.")
            continue
        problem, days = _checked_days(part, wanted.get("days"))
        if problem is None and days != part["days"] and part["to_week"] < first_week:
            problem = f"The visits of {_weeks(part)} are over by then and stay as they were."
        if problem is not None:
            errors.setdefault(f"visit_plan.{i}.days", problem)
        else:
            part["days"] = days
    return parts


def _checked_days(part: Part, days: object) -> tuple[str | None, list[str]]:
    count = part["per_week"]
    need = f"In {_weeks(part)} the plan has {count} visit{'s' if count != 1 else ''} a week: choose exactly " \
           f"{count} day{'s' if count != 1 else ''}."
    if not isinstance(days, list) or not all(isinstance(d, str) for d in days):
        return need, []
    if any(d not in WEEKDAYS for d in days):
        return "Use mon, tue, wed, thu, fri, sat or sun.", []
    ordered = [d for d in WEEKDAYS if d in days]
    return (need if len(ordered) != count else None), ordered


def _weeks(part: Mapping[str, Any]) -> str:
    """"weeks 1-12", or "week 3" for a part of one week."""
    first, last = part["from_week"], part["to_week"]
    return f"weeks {first}-{last}" if first != last else f"week {first}"


def plan_words(plan: Sequence[Mapping[str, Any]] | None) -> str:
    """"weeks 1-12: 2 a week (Monday, Thursday); weeks 13-24: 1 a week (Monday)"."""
    return "; ".join(f"{_weeks(p)}: {per_week(p)} a week ({', '.join(DAY_WORDS[d] for d in p['days'])})"
                     for p in plan or ())


def last_programme_day(enrollment: Enrollment, program: Program) -> date:
    """The enrollment's last day: its end date once ended, else the last day of the programme's last week."""
    return enrollment.end_on or enrollment.start_on + timedelta(weeks=program.weeks, days=-1)
