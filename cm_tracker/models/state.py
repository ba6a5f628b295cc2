"""What a reader needs of each target right now, stored by the evaluation that wrote the ledger.

Balances, the caseload, the patient record, the portal and the desk result show each target's streak and what the
next success earns. Computing those means replaying the whole history through the engine; the evaluation that
posts the ledger already did that, so it stores the outcome here in the same transaction (core.target_states), and
readers take one row per target instead (docs/architecture.md, "Stored state").

Like the report cache this is derived data, never the record: `flask reports rebuild` refills it, and a reader
that finds no row, or a row past `valid_until`, evaluates the history itself.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cm_tracker.extensions import db


class TargetState(db.Model):
    """One enrolment's state on one target after its last evaluation (docs/rules.md 4 and 7)."""

    __tablename__ = "target_states"
    __table_args__ = (Index("ix_target_states_patient", "patient_id"),)

    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), primary_key=True)
    target_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    # The target's place in its programme, so readers list the targets in order without loading the programme.
    position: Mapped[int] = mapped_column(default=0)
    # Successes in a row after the last event and the escalation level of the last award (the level a recovery
    # would restore is in the reset preview and its explanation).
    run: Mapped[int] = mapped_column(default=0)
    level: Mapped[int] = mapped_column(default=0)
    # What the next success earns and what a failure would reset it to, before the programme's limits: the cap
    # left changes with prizes, adjustments and the calendar, so readers fit these to the cap use they read live.
    next_points: Mapped[int] = mapped_column(default=0)
    next_draws: Mapped[int] = mapped_column(default=0)
    next_explanation: Mapped[str] = mapped_column(Text, default="")
    reset_points: Mapped[int] = mapped_column(default=0)
    reset_draws: Mapped[int] = mapped_column(default=0)
    reset_explanation: Mapped[str] = mapped_column(Text, default="")
    # The clinic date of the evaluation, and the last date the preview holds: the day before another schedule
    # version takes effect, or the Sunday of its week for a schedule that pays by calendar week (None: no end).
    computed_on: Mapped[date]
    valid_until: Mapped[date | None]
