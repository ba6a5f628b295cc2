"""What happened at a visit: specimens with per-analyte results, attendance, goal activities, and their versions.

Corrections never edit history away: each change bumps `version` and writes a RecordVersion snapshot with who,
when and why (docs/rules.md 6).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cm_tracker.engine.outcomes import ActivityStatus, AttendanceStatus, SpecimenStatus, Validity
from cm_tracker.extensions import db
from cm_tracker.models.patient import Enrollment
from cm_tracker.models.types import UTCDateTime, enum_column, make_append_only, now_default


class TestMethod(enum.StrEnum):
    POC = "poc"
    LAB = "lab"
    REMOTE = "remote"


class AnalyteResult(enum.StrEnum):
    NEGATIVE = "negative"
    POSITIVE = "positive"




class Specimen(db.Model):
    __tablename__ = "specimens"
    __table_args__ = (
        Index("ix_specimens_enrollment_collected", "enrollment_id", "collected_at"),
        Index("ix_specimens_patient_collected", "patient_id", "collected_at"),
        # A cup's accession (requisition) number names it to the lab: one specimen per accession per patient.
        Index("ix_specimens_patient_accession", "patient_id", "accession", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_visits.id"), index=True)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[SpecimenStatus] = mapped_column(enum_column(SpecimenStatus))
    validity: Mapped[Validity | None] = mapped_column(enum_column(Validity))
    temperature_ok: Mapped[bool | None]
    is_observed: Mapped[bool | None]
    method: Mapped[TestMethod | None] = mapped_column(enum_column(TestMethod))
    note: Mapped[str] = mapped_column(Text, default="")
    accession: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)

    results: Mapped[list[SpecimenResult]] = relationship(
        back_populates="specimen", cascade="all, delete-orphan", order_by="SpecimenResult.analyte"
    )
    enrollment: Mapped[Enrollment] = relationship()


class SpecimenResult(db.Model):
    """One analyte's result on the current version of a specimen (older versions live in RecordVersion)."""

    __tablename__ = "specimen_results"
    __table_args__ = (UniqueConstraint("specimen_id", "analyte"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    specimen_id: Mapped[int] = mapped_column(ForeignKey("specimens.id"))
    analyte: Mapped[str] = mapped_column(String(40))
    result: Mapped[AnalyteResult] = mapped_column(enum_column(AnalyteResult))

    specimen: Mapped[Specimen] = relationship(back_populates="results")


class AttendanceRecord(db.Model):
    __tablename__ = "attendance_records"
    __table_args__ = (Index("ix_attendance_enrollment_occurred", "enrollment_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_visits.id"), index=True)
    target_key: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[AttendanceStatus] = mapped_column(enum_column(AttendanceStatus))
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class GoalActivity(db.Model):
    """A weekly goal-activity contract item: what, how it will be verified, and staff's verdict."""

    __tablename__ = "goal_activities"
    __table_args__ = (Index("ix_goal_activities_enrollment_week", "enrollment_id", "week_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    target_key: Mapped[str] = mapped_column(String(40))
    week_of: Mapped[date]
    description: Mapped[str] = mapped_column(Text)
    verification: Mapped[str] = mapped_column(Text)
    evidence_note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ActivityStatus] = mapped_column(enum_column(ActivityStatus), default=ActivityStatus.PROPOSED)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class RecordType(enum.StrEnum):
    SPECIMEN = "specimen"
    ATTENDANCE = "attendance"
    ACTIVITY = "activity"


class RecordVersion(db.Model):
    """An immutable snapshot of one version of an event record, with who changed it, when and why (append-only:
    the history of a corrected record is these rows)."""

    __tablename__ = "record_versions"
    __table_args__ = (UniqueConstraint("record_type", "record_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[RecordType] = mapped_column(enum_column(RecordType))
    record_id: Mapped[int]
    version: Mapped[int]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)

    changed_by = relationship("User")


make_append_only(RecordVersion)
