"""Programmes, their reinforced targets and the versioned schedules that pay them (docs/rules.md 2, 4, 5)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cm_tracker.engine.outcomes import DilutePolicy
from cm_tracker.engine.rules import CapWindow, TargetKind
from cm_tracker.extensions import db
from cm_tracker.models.types import UTCDateTime, enum_column, now_default

NEAR_CAP_PERCENT_DEFAULT = 80


class Program(db.Model):
    __tablename__ = "programs"
    __table_args__ = (
        CheckConstraint("point_value_cents > 0", name="point_value_positive"),
        CheckConstraint("weeks > 0", name="weeks_positive"),
        CheckConstraint("cap_cents >= 0", name="cap_not_negative"),
        CheckConstraint("near_cap_percent BETWEEN 1 AND 100", name="near_cap_percent_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    preset: Mapped[str | None] = mapped_column(String(64))
    # Where the schedule's numbers come from and how sure we are of them (a preset's source and caveat, editable).
    source: Mapped[str] = mapped_column(Text, default="")
    caveat: Mapped[str] = mapped_column(Text, default="")
    point_value_cents: Mapped[int]
    weeks: Mapped[int]
    # Default visit days, e.g. ["mon", "thu"]; visit_plan may vary them by week range (California-like: 2 then 1).
    visit_days: Mapped[list[str]] = mapped_column(JSON)
    visit_plan: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    cap_cents: Mapped[int]
    cap_window: Mapped[CapWindow] = mapped_column(enum_column(CapWindow))
    max_award_cents: Mapped[int | None]
    # From what share of the cap (percent) a patient is "near the cap" on the dashboard and in the budget report.
    near_cap_percent: Mapped[int] = mapped_column(default=NEAR_CAP_PERCENT_DEFAULT)
    dilute_policy: Mapped[DilutePolicy] = mapped_column(enum_column(DilutePolicy), default=DilutePolicy.FAILURE)
    funding_source: Mapped[str] = mapped_column(String(120), default="")
    budget_cents: Mapped[int | None]
    requires_two_person_handover: Mapped[bool] = mapped_column(default=False)
    # A prize hand-over worth more than this asks the staff member to confirm it (None: never asks).
    confirm_handover_above_cents: Mapped[int | None]
    is_archived: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)

    targets: Mapped[list[ProgramTarget]] = relationship(
        back_populates="program", order_by="ProgramTarget.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Program {self.name}>"


class ProgramTarget(db.Model):
    """One reinforced behaviour with its own streak (docs/rules.md 2: abstinence, attendance or activity)."""

    __tablename__ = "program_targets"
    __table_args__ = (UniqueConstraint("program_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    kind: Mapped[TargetKind] = mapped_column(enum_column(TargetKind))
    # Analytes whose negatives count (abstinence); others on the panel are ignored (docs/rules.md 3.5).
    analytes: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)

    program: Mapped[Program] = relationship(back_populates="targets")
    schedule_versions: Mapped[list[ScheduleVersion]] = relationship(
        back_populates="target", order_by="ScheduleVersion.version", cascade="all, delete-orphan"
    )


class ScheduleVersion(db.Model):
    """A schedule (validated JSON of docs/rules.md 4) in force from `effective_on`; past awards keep their version."""

    __tablename__ = "schedule_versions"
    __table_args__ = (UniqueConstraint("target_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("program_targets.id"), index=True)
    version: Mapped[int]
    effective_on: Mapped[date]
    schedule: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    target: Mapped[ProgramTarget] = relationship(back_populates="schedule_versions")
