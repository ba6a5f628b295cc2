"""Patients, their episodes in a programme, and the visits they are scheduled for."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cm_tracker.extensions import db
from cm_tracker.models.program import Program
from cm_tracker.models.types import UTCDateTime, enum_column, now_default
from cm_tracker.models.user import User


class Patient(db.Model):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120))
    record_number: Mapped[str] = mapped_column(String(40), unique=True)
    # The counselor whose caseload holds this patient; counselors reach only their own caseload.
    counselor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    version: Mapped[int] = mapped_column(default=1)

    counselor: Mapped[User | None] = relationship(foreign_keys=[counselor_id])
    enrollments: Mapped[list[Enrollment]] = relationship(back_populates="patient", order_by="Enrollment.start_on")

    def __repr__(self) -> str:
        return f"<Patient {self.record_number}>"


class EnrollmentStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    DISCHARGED = "discharged"


class Enrollment(db.Model):
    """One patient's episode in a programme; the ledger and the cap's episode window hang from it."""

    __tablename__ = "enrollments"
    __table_args__ = (Index("ix_enrollments_program_status", "program_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    start_on: Mapped[date]
    end_on: Mapped[date | None]
    status: Mapped[EnrollmentStatus] = mapped_column(enum_column(EnrollmentStatus), default=EnrollmentStatus.ACTIVE)
    end_reason: Mapped[str | None] = mapped_column(Text)
    visit_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The patient's days in the weeks of the programme's visit plan: the plan's parts ({from_week, to_week,
    # per_week, days}) with the days chosen for this patient; None for a programme without a plan.
    visit_plan: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    # Bumped by every write that posts to the ledger: the row services lock to serialise one patient's entries.
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship(back_populates="enrollments")
    program: Mapped[Program] = relationship()


class VisitKind(enum.StrEnum):
    TEST = "test"
    SESSION = "session"


class ScheduledVisit(db.Model):
    """A scheduled opportunity to earn (docs/rules.md 2): a test date or a session."""

    __tablename__ = "scheduled_visits"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "due_on", "kind", "target_key"),
        Index("ix_scheduled_visits_due_on", "due_on", "enrollment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    due_on: Mapped[date]
    kind: Mapped[VisitKind] = mapped_column(enum_column(VisitKind))
    target_key: Mapped[str | None] = mapped_column(String(40))

    enrollment: Mapped[Enrollment] = relationship()


class ClinicClosure(db.Model):
    """A day the clinic was closed: every visit that day is excused (docs/rules.md 3.2)."""

    __tablename__ = "clinic_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    closed_on: Mapped[date] = mapped_column(unique=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class Excuse(db.Model):
    """An absence excused in advance or after the fact, with its reason (docs/rules.md 3.2)."""

    __tablename__ = "excuses"
    __table_args__ = (Index("ix_excuses_enrollment_on", "enrollment_id", "excused_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    excused_on: Mapped[date]
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_visits.id"))
    reason: Mapped[str] = mapped_column(Text)
    is_in_advance: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
