"""A programme's schedule versions, its presets, and the most a patient could earn (docs/rules.md 1, 5), for the
schedule editor and the API; a candidate schedule checked as a save would check it (usecases.program_schedules saves).

A changed schedule is a new version that takes effect from a chosen date: never before today at the clinic, and
not today once results have been recorded today. Each event is paid by the version in force on its date
(engine.evaluate_versions), so re-evaluating any history never changes an award already given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, select

from cm_tracker.engine.maximum import MaxEarnable, max_earnable
from cm_tracker.engine.presets import PRESETS, Preset
from cm_tracker.engine.rules import ProgramRules, TargetKind, parse_program_rules
from cm_tracker.engine.schedules import Schedule, ScheduleError, read_schedule, schedule_to_dict
from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    Enrollment,
    GoalActivity,
    Program,
    ProgramTarget,
    ScheduleVersion,
    Specimen,
    User,
)
from cm_tracker.money import format_cents
from cm_tracker.services.core.clinic import start_of_day
from cm_tracker.services.core.errors import NotFound, ValidationFailed
from cm_tracker.services.core.events import rules_for
from cm_tracker.services.core.visit_calendar import visit_dates
from cm_tracker.services.queries.overview import schedule_summary
from cm_tracker.services.queries.programs import has_enrollments, ordered_versions, version_in_force

SCHEDULED = (TargetKind.ABSTINENCE, TargetKind.ATTENDANCE)


@dataclass(frozen=True)
class MaximumPreview:
    """The most a patient starting on `start_on` could earn, every scheduled visit a success, against the cap.

    Activities are verified when they happen rather than scheduled, so they are listed in `unscheduled` and not
    counted.
    """

    earnable: MaxEarnable
    start_on: date
    visits: int
    labels: dict[str, str]
    unscheduled: tuple[str, ...]

    @property
    def total_cents(self) -> int:
        """Points' value plus the expected value of the prizes the draws would win."""
        return self.earnable.cents + self.earnable.expected_prize_cents

    @property
    def over_cents(self) -> int:
        return max(0, self.total_cents - self.earnable.cap_cents)

    @property
    def left_cents(self) -> int:
        """What the cap would still allow after every success was paid."""
        return max(0, self.earnable.cap_cents - self.total_cents)

    def to_dict(self) -> dict[str, Any]:
        m = self.earnable
        return {
            "start_on": self.start_on.isoformat(), "visits": self.visits, "points": m.points, "cents": m.cents,
            "draws": m.draws, "expected_prize_cents": m.expected_prize_cents, "max_prize_cents": m.max_prize_cents,
            "total_cents": self.total_cents, "cap_cents": m.cap_cents, "fits_cap": m.fits_cap,
            "over_cap_cents": self.over_cents, "unscheduled_targets": list(self.unscheduled),
            "targets": [{"key": t.key, "visits": t.visits, "points": t.points, "draws": t.draws}
                        for t in m.per_target],
        }  # fmt: skip


@dataclass(frozen=True)
class VersionRow:
    version: ScheduleVersion
    summary: str
    created_by: str
    status: str  # "in force", "scheduled" (takes effect later) or "replaced"


def find_target(program: Program, key: str) -> ProgramTarget:
    for target in program.targets:
        if target.key == key:
            return target
    raise NotFound("This programme has no such target.")


def check_schedule(program: Program, target: ProgramTarget, data: object) -> Schedule:
    """A candidate schedule for `target`, checked alone and as part of the programme (one bowl, bonus analytes
    only on abstinence). Errors are keyed "schedule.<field>", as a form or a client sent them."""
    errors: dict[str, str] = {}
    schedule = read_schedule(data, "schedule.", errors)
    current = version_in_force(target, date.max)
    if schedule is not None and current is not None and schedule.kind.value != current.schedule.get("kind"):
        errors["schedule.kind"] = (f"Stays {current.schedule.get('kind')}: a new version keeps the schedule's kind "
                                   "(patients' balances are in its unit). Create a new programme to change it.")
    if schedule is not None and not errors:
        _check_in_program(program, target, schedule, errors)
    if errors or schedule is None:
        raise ValidationFailed("The schedule has problems; nothing was saved.", fields=errors)
    return schedule


def _check_in_program(program: Program, target: ProgramTarget, schedule: Schedule, errors: dict[str, str]) -> None:
    data = _program_data(program, {target.key: schedule_to_dict(schedule)})
    try:
        parse_program_rules(data)
    except ScheduleError as exc:
        index = [t.key for t in program.targets].index(target.key)
        prefix = f"targets.{index}."
        errors.update({k.removeprefix(prefix): v for k, v in exc.fields.items() if k.startswith(prefix)})


def _program_data(program: Program, schedules: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The engine fields of a programme, with its newest schedules unless `schedules` replaces some."""
    def schedule_of(target: ProgramTarget) -> dict[str, Any]:
        return schedules.get(target.key) or version_in_force(target, date.max).schedule  # type: ignore[union-attr]

    return {
        "point_value_cents": program.point_value_cents, "cap_cents": program.cap_cents,
        "cap_window": program.cap_window.value, "max_award_cents": program.max_award_cents,
        "dilute_policy": program.dilute_policy.value,
        "targets": [{"key": t.key, "kind": t.kind.value, "label": t.label, "analytes": list(t.analytes),
                     "schedule": schedule_of(t)} for t in program.targets],
    }  # fmt: skip


def default_effective_on(program: Program, target: ProgramTarget, today: date) -> date:
    """Tomorrow once patients are enrolled (today's results stand), today before; never before a later version."""
    day = today + timedelta(days=1) if has_enrollments(program) else today
    return max([day, *(v.effective_on for v in target.schedule_versions)])


def results_recorded_on(program: Program, day: date) -> bool:
    """Whether any specimen, attendance or activity of the programme happened on the clinic date `day`."""
    start, end = start_of_day(day), start_of_day(day + timedelta(days=1))
    enrolled = select(Enrollment.id).where(Enrollment.program_id == program.id)

    def during(moment: Any, enrollment_id: Any) -> Any:
        return exists().where(enrollment_id.in_(enrolled), moment >= start, moment < end)

    checks = (during(Specimen.collected_at, Specimen.enrollment_id),
              during(AttendanceRecord.occurred_at, AttendanceRecord.enrollment_id),
              during(GoalActivity.occurred_at, GoalActivity.enrollment_id))
    return any(db.session.scalar(select(check)) for check in checks)


def preview_maximum(program: Program, *, today: date, key: str | None = None,
                    schedule: Schedule | None = None) -> MaximumPreview:
    """The most a patient enrolled today could earn, with `schedule` in place of target `key`'s if given
    (the schedule editor's Preview: nothing is saved)."""
    rules = rules_for(program, today)
    if key is not None and schedule is not None:
        targets = tuple(replace(t, schedule=schedule, versions=()) if t.key == key else t for t in rules.targets)
        rules = replace(rules, targets=targets)
    return maximum_for(rules, program.weeks, list(program.visit_days), program.visit_plan, today)


def preview_schedule(program: Program, key: str, data: object, *, today: date) -> MaximumPreview:
    """The schedule editor's Preview: the candidate checked as a save would check it, and what it lets a patient
    earn; nothing is saved."""
    target = find_target(program, key)
    return preview_maximum(program, today=today, key=key, schedule=check_schedule(program, target, data))


@dataclass(frozen=True)
class SchedulePage:
    target: ProgramTarget
    current: ScheduleVersion
    newest: ScheduleVersion
    history: list[VersionRow]
    maximum: MaximumPreview
    default_effective_on: date
    is_enrolled: bool


def schedule_page(program: Program, key: str, today: date) -> SchedulePage:
    """What the schedule editor shows: the target's versions, the maximum now, and the date a change would take."""
    target = find_target(program, key)
    history = dict(schedule_history(program, today))[target]
    current = version_in_force(target, today)
    newest = max(target.schedule_versions, key=lambda v: v.version)
    return SchedulePage(target, current, newest, history, preview_maximum(program, today=today),  # type: ignore[arg-type]
                        default_effective_on(program, target, today), has_enrollments(program))


def maximum_for(rules: ProgramRules, weeks: int, visit_days: list[str], visit_plan: list[dict[str, Any]] | None,
                start_on: date) -> MaximumPreview:
    dates = visit_dates(start_on, weeks, visit_days, visit_plan)
    visits = {t.key: dates if t.kind in SCHEDULED else [] for t in rules.targets}
    unscheduled = tuple(t.label for t in rules.targets if t.kind not in SCHEDULED)
    return MaximumPreview(max_earnable(rules, visits), start_on, len(dates),
                          {str(t.key): t.label for t in rules.targets}, unscheduled)


def schedule_history(program: Program, today: date) -> list[tuple[ProgramTarget, list[VersionRow]]]:
    """Each target's versions, newest first, with who saved them and whether each is in force, replaced or
    scheduled to take effect later."""
    ids = {v.created_by_id for t in program.targets for v in t.schedule_versions if v.created_by_id}
    found = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))) if ids else []
    names = {user_id: name for user_id, name in found}
    history = []
    for target in program.targets:
        current = version_in_force(target, today)
        rows = []
        for version in reversed(ordered_versions(target)):
            status = "in force" if version is current else "scheduled" if version.effective_on > today else "replaced"
            rows.append(VersionRow(version, describe(version.schedule), names.get(version.created_by_id, "the system"),
                                   status))
        history.append((target, rows))
    return history


def describe(schedule: Mapping[str, Any]) -> str:
    """The schedule in words, with the prize bowl spelled out for draws."""
    text = schedule_summary(dict(schedule))
    bowl = schedule.get("bowl")
    if schedule.get("kind") == "prize_draws" and bowl:
        tiers = ", ".join(f"{t['slips']} {t['tier'].replace('_', ' ')}" +
                          (f" ({format_cents(t['value_cents'])})" if t["value_cents"] else "") for t in bowl)
        text += f"; bowl of {sum(t['slips'] for t in bowl)} slips: {tiers}"
    return text


def versions_to_dict(program: Program, today: date) -> dict[str, Any]:
    return {"program_id": program.id, "targets": [
        {"key": target.key, "label": target.label, "kind": target.kind.value,
         "versions": [version_to_dict(row.version, row.status, row.created_by if row.version.created_by_id else None)
                      for row in rows]}
        for target, rows in schedule_history(program, today)]}  # fmt: skip


def version_to_dict(version: ScheduleVersion, status: str, created_by: str | None = None) -> dict[str, Any]:
    return {
        "version": version.version, "effective_on": version.effective_on.isoformat(), "schedule": version.schedule,
        "summary": describe(version.schedule), "status": status,
        "created_at": version.created_at.isoformat() if isinstance(version.created_at, datetime) else None,
        "created_by_id": version.created_by_id, "created_by": created_by,
    }  # fmt: skip


def preset_program_data(preset: Preset) -> dict[str, Any]:
    """A preset as a programme's JSON: its numbers, where they come from and how sure we are, and a visit plan
    where its weekly pattern changes (California-like: twice a week, then once)."""
    data = preset.program_data() | {"description": preset.description, "preset": preset.name,
                                    "source": preset.source, "caveat": preset.caveat}
    if any(block.per_week < len(preset.visit_days) for block in preset.visits):
        data["visit_plan"] = [{"from_week": b.first_week, "to_week": b.last_week, "per_week": b.per_week,
                               "days": list(preset.visit_days[: b.per_week])} for b in preset.visits]
    return data


def get_preset(name: str) -> Preset:
    preset = PRESETS.get(name)
    if preset is None:
        raise NotFound("There is no such preset.")
    return preset


def preset_maximum(preset: Preset, today: date) -> MaximumPreview:
    data = preset_program_data(preset)
    return maximum_for(preset.rules(), preset.weeks, data["visit_days"], data.get("visit_plan"), today)


def presets_to_dict(today: date) -> dict[str, Any]:
    return {"presets": [
        {"name": p.name, "title": p.title, "description": p.description, "source": p.source, "caveat": p.caveat,
         "program_data": preset_program_data(p), "maximum": preset_maximum(p, today).to_dict()}
        for p in PRESETS.values()]}  # fmt: skip
