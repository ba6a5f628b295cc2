"""Changing a live programme's schedule (docs/rules.md 4.5) and creating a programme from a preset (docs/rules.md 1, 5).

Saving checks the candidate and its date exactly as queries.program_schedules previews them (the rules of when a
version may take effect live there), then writes the new version and its audit row in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from cm_tracker.engine.fields import Reader
from cm_tracker.engine.schedules import schedule_to_dict
from cm_tracker.extensions import db
from cm_tracker.models import Program, ProgramTarget, ScheduleVersion, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.target_states import end_states_before
from cm_tracker.services.queries.program_schedules import (
    check_schedule,
    default_effective_on,
    find_target,
    get_preset,
    preset_program_data,
    results_recorded_on,
)
from cm_tracker.services.queries.programs import version_in_force
from cm_tracker.services.usecases.programs import create_program

LATEST_EFFECTIVE_ON = date(2099, 12, 31)
VERSION_FIELDS = ("schedule", "effective_on", "based_on_version")


def add_schedule_version(program: Program, key: str, data: Mapping[str, Any], *, actor: User,
                         today: date) -> ScheduleVersion:
    """Save a changed schedule as the target's next version, in force from `effective_on` (by default tomorrow
    once patients are enrolled, else today). `based_on_version`, when given, is the newest version the editor saw."""
    target = find_target(program, key)
    newest = max(v.version for v in target.schedule_versions)
    based_on = data.get("based_on_version")
    if based_on is not None and based_on != newest:
        raise Conflict(f"Someone saved version {newest} of this schedule since you opened it; reload it and make "
                       "your change again.", code="stale_version")
    errors: dict[str, str] = {}
    Reader(data, "", errors).refuse_unknown(VERSION_FIELDS, "a schedule version")
    schedule = None
    try:
        schedule = check_schedule(program, target, data.get("schedule"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    effective_on = _effective_on(program, target, data.get("effective_on"), today, errors)
    stored = schedule_to_dict(schedule) if schedule is not None else None
    in_force = version_in_force(target, effective_on) if effective_on else None
    if stored is not None and in_force is not None and stored == in_force.schedule and "schedule" not in errors:
        errors["schedule"] = "This is the schedule already in force on that date: there is nothing to change."
    if errors or stored is None or effective_on is None:
        raise ValidationFailed("The schedule was not saved.", fields=errors)
    row = ScheduleVersion(version=newest + 1, effective_on=effective_on, schedule=stored, created_by_id=actor.id)
    target.schedule_versions.append(row)
    db.session.flush()
    end_states_before(program.id, key, effective_on)
    audit.record("program.schedule_version", user=actor, object_type="program", object_id=program.id,
                 detail={"target": key, "version": row.version, "effective_on": effective_on.isoformat()})
    try:
        db.session.commit()
    except IntegrityError:  # another editor saved the same version number first
        db.session.rollback()
        raise Conflict("Someone saved a new version of this schedule at the same moment; reload it and make your "
                       "change again.", code="stale_version") from None
    return row


def _effective_on(program: Program, target: ProgramTarget, value: object, today: date,
                  errors: dict[str, str]) -> date | None:
    if value is None:
        return default_effective_on(program, target, today)
    day = _parse_date(value)
    latest = max(target.schedule_versions, key=lambda v: (v.effective_on, v.version))
    problem = None
    if day is None:
        problem = "Must be a date as YYYY-MM-DD."
    elif day < today:
        problem = f"Must be today ({today.isoformat()}) or later: awards already given stand."
    elif day == today and results_recorded_on(program, today):
        problem = (f"Results were already recorded today under the current schedule; choose "
                   f"{(today + timedelta(days=1)).isoformat()} or later so that they stand.")
    elif day < latest.effective_on:
        problem = (f"Version {latest.version} takes effect on {latest.effective_on.isoformat()}; a new version can "
                   "take effect from that date on.")
    elif day > LATEST_EFFECTIVE_ON:
        problem = f"Must be on or before {LATEST_EFFECTIVE_ON.isoformat()}."
    if problem:
        errors["effective_on"] = problem
        return None
    return day


def _parse_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def create_from_preset(name: str, fields: Mapping[str, Any], *, actor: User, today: date) -> Program:
    """A programme from a preset: the preset's targets and schedules, with the fields the clinic set."""
    return create_program(preset_program_data(get_preset(name)) | dict(fields), actor=actor, today=today)
