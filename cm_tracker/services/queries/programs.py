"""Reading programmes: the list, one programme as the API shows it, and the schedule versions of its targets."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, Program, ProgramTarget, ScheduleVersion
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.errors import NotFound


def list_programs() -> list[Program]:
    return list(db.session.scalars(select(Program).order_by(Program.name, Program.id)))


def get_program(program_id: int) -> Program:
    program = db.session.get(Program, program_id)
    if program is None:
        raise NotFound("There is no such program.")
    return program


def program_to_dict(program: Program) -> dict[str, Any]:
    return {
        "id": program.id, "name": program.name, "description": program.description, "preset": program.preset,
        "source": program.source, "caveat": program.caveat,
        "point_value_cents": program.point_value_cents, "weeks": program.weeks,
        "visit_days": list(program.visit_days), "visit_plan": program.visit_plan,
        "cap_cents": program.cap_cents, "cap_window": program.cap_window.value,
        "max_award_cents": program.max_award_cents, "near_cap_percent": program.near_cap_percent,
        "dilute_policy": program.dilute_policy.value,
        "funding_source": program.funding_source, "budget_cents": program.budget_cents,
        "requires_two_person_handover": program.requires_two_person_handover,
        "is_archived": program.is_archived, "version": program.version,
        "created_at": program.created_at.isoformat() if program.created_at else None,
        "targets": [_target_to_dict(t, clinic_today()) for t in program.targets],
    }  # fmt: skip


def _target_to_dict(target: ProgramTarget, today: date) -> dict[str, Any]:
    """The schedule in force today, and any version already saved to take effect later."""
    current = version_in_force(target, today)
    return {
        "key": target.key, "kind": target.kind.value, "label": target.label, "analytes": list(target.analytes),
        "schedule": current.schedule if current else None,
        "schedule_version": current.version if current else None,
        "effective_on": current.effective_on.isoformat() if current else None,
        "upcoming": [{"version": v.version, "effective_on": v.effective_on.isoformat(), "schedule": v.schedule}
                     for v in ordered_versions(target) if v.effective_on > today],
    }


def ordered_versions(target: ProgramTarget) -> list[ScheduleVersion]:
    """A target's schedule versions in the order they take effect (of two on one date, the later replaces)."""
    return sorted(target.schedule_versions, key=lambda v: (v.effective_on, v.version))


def version_in_force(target: ProgramTarget, day: date) -> ScheduleVersion | None:
    """The version paying events on `day`: the latest effective on or before it; before the first, the first."""
    versions = ordered_versions(target)
    current = [v for v in versions if v.effective_on <= day]
    return current[-1] if current else (versions[0] if versions else None)


def has_enrollments(program: Program) -> bool:
    return db.session.scalar(select(Enrollment.id).where(Enrollment.program_id == program.id).limit(1)) is not None
