"""The programmes a report can be about, archived ones last, for the filter form."""

from __future__ import annotations

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import Program


def programs() -> list[Program]:
    return list(db.session.scalars(select(Program).order_by(Program.is_archived, Program.name)))


def default_program_id() -> int | None:
    return db.session.scalar(select(Program.id).order_by(Program.is_archived, Program.name).limit(1))
