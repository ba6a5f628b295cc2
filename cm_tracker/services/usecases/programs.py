"""Programmes: creating one from its JSON description (docs/api.md POST /programs), editing it.

The engine validates what it computes with (point value, cap, targets and their schedules, docs/rules.md 4 and 5);
this module adds what the clinic's calendar and the database need (name, weeks, visit days, lengths), so that the
HTML form and the API refuse exactly the same things.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cm_tracker.engine.fields import LARGEST, Reader
from cm_tracker.engine.rules import ProgramRules, parse_program_rules
from cm_tracker.engine.schedules import ScheduleError, schedule_to_dict
from cm_tracker.extensions import db
from cm_tracker.models import CapWindow, DilutePolicy, Program, ProgramTarget, ScheduleVersion, TargetKind, User
from cm_tracker.models.program import NEAR_CAP_PERCENT_DEFAULT
from cm_tracker.money import format_cents
from cm_tracker.services.core import audit
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.core.versions import claim_version
from cm_tracker.services.core.visit_calendar import normalised_plan
from cm_tracker.services.queries.programs import has_enrollments, version_in_force

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_WEEKS = 104
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Lower-case panel names as labs write them: "cocaine", "thc", "6-mam".
ANALYTE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ALLOWED_FIELDS = (
    "name", "description", "preset", "source", "caveat", "point_value_cents", "weeks", "visit_days", "visit_plan",
    "cap_cents", "cap_window", "max_award_cents", "near_cap_percent", "dilute_policy", "funding_source",
    "budget_cents", "requires_two_person_handover", "effective_on", "targets",
)  # fmt: skip
# What an edit may change (PATCH /programs/{id}); targets and schedules change through schedule versions.
EDITABLE_FIELDS = (
    "name", "description", "source", "caveat", "point_value_cents", "weeks", "visit_days", "visit_plan",
    "cap_cents", "cap_window", "max_award_cents", "near_cap_percent", "dilute_policy", "funding_source",
    "budget_cents", "requires_two_person_handover", "is_archived",
)  # fmt: skip
TEXT_LIMITS = {"name": 120, "description": 4000, "preset": 64, "source": 2000, "caveat": 2000, "funding_source": 120}
MULTILINE = frozenset({"description", "source", "caveat"})
MAX_TARGETS = 20
# PostgreSQL refuses NUL in text; descriptions may keep their line breaks and tabs.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def create_program(data: Mapping[str, Any], *, actor: User, today: date) -> Program:
    """Validate and store a programme with version 1 of each target's schedule, in force from `effective_on`
    (today at the clinic unless given). A name already in use is a conflict, not a field error."""
    rules, effective_on = _validate(data, today)
    name = str(data["name"]).strip()
    if db.session.scalar(select(Program.id).where(Program.name == name)) is not None:
        raise Conflict("A program with this name already exists.", code="duplicate")
    program = _build(data, name, rules, effective_on, actor)
    db.session.add(program)
    db.session.flush()
    audit.record("program.create", user=actor, object_type="program", object_id=program.id,
                 detail={"name": name, "targets": [t.key for t in program.targets]})
    try:
        db.session.commit()
    except IntegrityError:  # another request took the name between our check and our commit
        db.session.rollback()
        raise Conflict("A program with this name already exists.", code="duplicate") from None
    return program


def update_program(program: Program, data: Mapping[str, Any], *, actor: User) -> Program:
    """Edit a programme's fields; `version` is the one the editor saw, and a stale edit is a conflict.

    Re-evaluation applies a programme's limits to a patient's whole history, so once patients are enrolled they
    may only become more generous (awards already given stand): the cap and the per-award maximum may rise; the
    point value, cap window and dilute policy stay. Visit days and weeks apply to patients enrolled afterwards.
    """
    version = data.get("version")
    if not _is_int(version) or version < 1:
        raise ValidationFailed("The program was not changed.", fields={"version": "Required: the version you "
                                                                                  "are editing, a whole number."})
    if version != program.version:  # stale already when loaded; the claim below refuses what goes stale since
        raise Conflict(STALE, code="stale_version")
    changes = {k: v for k, v in data.items() if k != "version"}
    merged = _current_values(program) | {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    errors = {str(k)[:100]: "This field cannot be changed; schedules change through schedule versions."
              if k in ALLOWED_FIELDS else "Unknown field for a program." for k in changes if k not in EDITABLE_FIELDS}
    _validate_edit(program, merged, errors)
    if errors:
        raise ValidationFailed("The program was not changed.", fields=errors)
    name = str(merged["name"]).strip()
    if db.session.scalar(select(Program.id).where(Program.name == name, Program.id != program.id)) is not None:
        raise Conflict("Another program has this name.", code="duplicate")
    claim_version(program, version, what="programme")
    changed = _apply(program, merged)
    audit.record("program.update", user=actor, object_type="program", object_id=program.id,
                 detail={"name": program.name, "changed": changed, "version": program.version})
    try:
        db.session.commit()
    except IntegrityError:  # another request took the name between our check and our commit
        db.session.rollback()
        raise Conflict("Another program has this name.", code="duplicate") from None
    return program


STALE = "This programme was changed by someone else since you opened it; reload it and make your change again."


def _current_values(program: Program) -> dict[str, Any]:
    """The programme as an edit sees it, with each target's schedule in force today (for the engine's checks)."""
    today = clinic_today()
    values = {name: getattr(program, name) for name in EDITABLE_FIELDS}
    values["cap_window"], values["dilute_policy"] = program.cap_window.value, program.dilute_policy.value
    values["visit_days"] = list(program.visit_days)
    values["targets"] = [{"key": t.key, "kind": t.kind.value, "label": t.label, "analytes": list(t.analytes),
                          "schedule": version_in_force(t, today).schedule} for t in program.targets]  # type: ignore[union-attr]
    return values


def _validate_edit(program: Program, merged: dict[str, Any], errors: dict[str, str]) -> None:
    try:
        parse_program_rules({k: v for k, v in merged.items() if k in ALLOWED_FIELDS})
    except ScheduleError as exc:
        errors.update({k: v for k, v in exc.fields.items() if not k.startswith("targets")})
    _check_fields(merged, errors)
    if not isinstance(merged.get("is_archived"), bool):
        errors.setdefault("is_archived", "Must be true or false.")
    if not errors and has_enrollments(program):
        _check_live(program, merged, errors)


def _check_live(program: Program, merged: dict[str, Any], errors: dict[str, str]) -> None:
    """Limits that re-evaluation applies to the whole history may only become more generous (update_program)."""
    enrolled = "Patients are enrolled"
    if merged["point_value_cents"] != program.point_value_cents:
        errors["point_value_cents"] = f"{enrolled}: a point stays worth {format_cents(program.point_value_cents)}, " \
                                      "or awards already given would change. Create a new programme instead."
    for name, what in (("cap_window", "the cap window"), ("dilute_policy", "the dilute policy")):
        if merged[name] != getattr(program, name).value:
            errors[name] = f"{enrolled}: {what} cannot change, or awards already given would change."
    if merged["cap_cents"] < program.cap_cents:
        errors["cap_cents"] = f"{enrolled}: the cap may rise but not fall below {format_cents(program.cap_cents)}, " \
                              "so that awards already given stand."
    old, new = program.max_award_cents, merged.get("max_award_cents")
    if new is not None and (old is None or new < old):
        errors["max_award_cents"] = f"{enrolled}: the per-award maximum may rise or be removed, not fall" + \
                                    (f" below {format_cents(old)}." if old is not None else " into place.")


def _apply(program: Program, merged: dict[str, Any]) -> list[str]:
    changed = []
    for name in EDITABLE_FIELDS:
        value = merged.get(name)
        if isinstance(value, str) and name in TEXT_LIMITS:
            value = value.strip()
        elif name == "cap_window":
            value = CapWindow(value)
        elif name == "dilute_policy":
            value = DilutePolicy(value)
        elif name == "visit_plan":
            value = normalised_plan(value, merged["visit_days"])
        if getattr(program, name) != value:
            setattr(program, name, value)
            changed.append(name)
    return changed


def _build(data: Mapping[str, Any], name: str, rules: ProgramRules, effective_on: date, actor: User) -> Program:
    program = Program(
        name=name, description=(data.get("description") or "").strip(), preset=data.get("preset"),
        source=(data.get("source") or "").strip(), caveat=(data.get("caveat") or "").strip(),
        point_value_cents=rules.point_value_cents, weeks=data["weeks"], visit_days=list(data["visit_days"]),
        visit_plan=normalised_plan(data.get("visit_plan"), data["visit_days"]), cap_cents=rules.cap_cents,
        cap_window=CapWindow(rules.cap_window.value),
        max_award_cents=rules.max_award_cents, dilute_policy=DilutePolicy(rules.dilute_policy.value),
        near_cap_percent=data.get("near_cap_percent", NEAR_CAP_PERCENT_DEFAULT),
        funding_source=(data.get("funding_source") or "").strip(), budget_cents=data.get("budget_cents"),
        requires_two_person_handover=bool(data.get("requires_two_person_handover")),
    )  # fmt: skip
    for position, target in enumerate(rules.targets):
        row = ProgramTarget(key=str(target.key), label=target.label, kind=TargetKind(target.kind.value),
                            analytes=sorted(target.analytes), position=position)
        row.schedule_versions.append(ScheduleVersion(version=1, effective_on=effective_on, created_by_id=actor.id,
                                                     schedule=schedule_to_dict(target.schedule)))
        program.targets.append(row)
    return program


def _validate(data: Mapping[str, Any], today: date) -> tuple[ProgramRules, date]:
    """Every problem at once, keyed by dotted field name; the engine's own messages come first."""
    errors: dict[str, str] = {}
    rules: ProgramRules | None = None
    try:
        rules = parse_program_rules(data)
    except ScheduleError as exc:
        errors.update(exc.fields)
    Reader(data, "", errors).refuse_unknown(ALLOWED_FIELDS, "a program")
    _check_fields(data, errors)
    _check_targets(data.get("targets"), errors)
    effective_on = _date(data.get("effective_on"), today, errors)
    if errors or rules is None:
        raise ValidationFailed("The program could not be created.", fields=errors)
    return rules, effective_on


def _check_fields(data: Mapping[str, Any], errors: dict[str, str]) -> None:
    """What the calendar, the database and the desk need beyond the engine's rules."""
    _check_texts(data, errors)
    _check_calendar(data, errors)
    reader = Reader(data, "", errors)
    if reader.has("budget_cents"):
        reader.integer("budget_cents", "the programme's budget in cents", 0)
    near = data.get("near_cap_percent", NEAR_CAP_PERCENT_DEFAULT)
    if not _is_int(near) or not 1 <= near <= 100:
        errors.setdefault("near_cap_percent", "Must be a whole number of percent from 1 to 100: the share of the "
                                              "cap from which a patient is near the cap.")
    if data.get("requires_two_person_handover") not in (None, True, False):
        errors.setdefault("requires_two_person_handover", "Must be true or false.")


def _check_texts(data: Mapping[str, Any], errors: dict[str, str]) -> None:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.setdefault("name", "Required: the programme's name.")
    for field, limit in TEXT_LIMITS.items():
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            errors.setdefault(field, "Must be a string.")
        elif isinstance(value, str) and len(value.strip()) > limit:
            errors.setdefault(field, f"Must be at most {limit} characters.")
        elif isinstance(value, str) and (CONTROL_RE.search(value) or (field not in MULTILINE and "\n" in value)):
            errors.setdefault(field, "Must not contain control characters.")


def _check_calendar(data: Mapping[str, Any], errors: dict[str, str]) -> None:
    weeks = data.get("weeks")
    if weeks is None:
        errors.setdefault("weeks", "Required: the programme's length in weeks.")
    elif not _is_int(weeks) or not 1 <= weeks <= MAX_WEEKS:
        errors.setdefault("weeks", f"Must be a whole number of weeks from 1 to {MAX_WEEKS}.")
    _check_days(data.get("visit_days"), "visit_days", errors)
    plan = data.get("visit_plan")
    if plan is not None:
        _check_plan(plan, weeks if _is_int(weeks) else MAX_WEEKS, errors)


def _check_days(days: object, path: str, errors: dict[str, str]) -> None:
    if not isinstance(days, list) or not days:
        errors.setdefault(path, f"Required: a non-empty list of days from {', '.join(WEEKDAYS)}.")
    elif not all(isinstance(d, str) and d in WEEKDAYS for d in days):
        errors.setdefault(path, f"Each day must be one of {', '.join(WEEKDAYS)}.")
    elif len(set(days)) != len(days):
        errors.setdefault(path, "Each day may appear only once.")


def _check_plan(plan: object, weeks: int, errors: dict[str, str]) -> None:
    """Visits per week by week range, e.g. twice a week in weeks 1-12 and once in 13-24 (docs/rules.md 1,
    California), with the days patients get unless the clinic chooses others for one of them."""
    if not isinstance(plan, list) or not plan:
        errors.setdefault("visit_plan", "Must be a non-empty list of {from_week, to_week, per_week, days}.")
        return
    covered: set[int] = set()
    for i, part in enumerate(plan):
        path = f"visit_plan.{i}"
        if not isinstance(part, dict) or set(part) - {"from_week", "to_week", "per_week", "days"}:
            errors.setdefault(path, "Must be an object with from_week, to_week, per_week and days.")
            continue
        start, end = part.get("from_week"), part.get("to_week")
        if not _is_int(start) or not 1 <= start <= weeks:
            errors.setdefault(f"{path}.from_week", f"Must be a week from 1 to {weeks}.")
        elif not _is_int(end) or not start <= end <= weeks:
            errors.setdefault(f"{path}.to_week", f"Must be a week from {start} to {weeks}.")
        elif covered & set(range(start, end + 1)):
            errors.setdefault(f"{path}.from_week", "Overlaps an earlier part of the plan.")
        else:
            covered |= set(range(start, end + 1))
        _check_part_visits(part, path, errors)


def _check_part_visits(part: dict[str, Any], path: str, errors: dict[str, str]) -> None:
    """`per_week` (1 to 7) and the default `days`: either may be left out, not both; given both, they agree."""
    count, days = part.get("per_week"), part.get("days")
    for name in ("per_week", "days"):  # left out means "the usual"; null is not a value of either
        if name in part and part[name] is None:
            errors.setdefault(f"{path}.{name}", "Must not be null: leave it out instead.")
    if f"{path}.per_week" in errors or f"{path}.days" in errors:
        return
    if count is None and days is None:
        errors.setdefault(f"{path}.per_week", "Required: the visits a week in these weeks, 1 to 7.")
        return
    if count is not None and (not _is_int(count) or not 1 <= count <= 7):
        errors.setdefault(f"{path}.per_week", "Must be a whole number of visits a week from 1 to 7.")
        return
    if days is not None:
        _check_days(days, f"{path}.days", errors)
        if count is not None and isinstance(days, list) and len(days) != count:
            errors.setdefault(f"{path}.days", f"Give {count} default day{'s' if count != 1 else ''}, one per "
                                              "visit a week, or leave the days out to use the usual ones.")


def _check_targets(targets: object, errors: dict[str, str]) -> None:
    """What the database and the lab interface need of keys, labels and analyte names."""
    if not isinstance(targets, list):
        return
    if len(targets) > MAX_TARGETS:
        errors.setdefault("targets", f"A program has at most {MAX_TARGETS} targets.")
        return
    for i, target in enumerate(targets):
        if not isinstance(target, dict):
            continue
        key, label, analytes = target.get("key"), target.get("label"), target.get("analytes")
        if isinstance(key, str) and not KEY_RE.match(key):
            errors.setdefault(f"targets.{i}.key", "Use 1 to 40 lower-case letters, digits or underscores, "
                                                  "starting with a letter.")
        if label is not None and (not isinstance(label, str) or not label.strip() or len(label) > 120
                                  or CONTROL_RE.search(label) or "\n" in label):
            errors.setdefault(f"targets.{i}.label", "Must be a name of 1 to 120 characters.")
        if isinstance(analytes, list):
            for j, analyte in enumerate(analytes):
                if isinstance(analyte, str) and not ANALYTE_RE.match(analyte):
                    errors.setdefault(f"targets.{i}.analytes.{j}",
                                      "Use the lower-case analyte name, up to 40 letters, digits, - or _.")


def _date(value: object, default: date, errors: dict[str, str]) -> date:
    if value is None:
        return default
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors.setdefault("effective_on", "Must be a date as YYYY-MM-DD.")
    return default


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value <= LARGEST
