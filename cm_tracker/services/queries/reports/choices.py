"""What the report filter form offers: the programmes (archived ones last) and the counselors."""

from __future__ import annotations

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Program, Role, User


def programs() -> list[Program]:
    return list(db.session.scalars(select(Program).order_by(Program.is_archived, Program.name)))


def default_program_id() -> int | None:
    return db.session.scalar(select(Program.id).order_by(Program.is_archived, Program.name).limit(1))


def counselors() -> list[User]:
    """Every counselor account, by name: a report may be about one counselor's current caseload."""
    return list(db.session.scalars(select(User).where(User.role == Role.COUNSELOR).order_by(User.display_name)))
