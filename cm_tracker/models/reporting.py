"""Derived tables for reports: what each event meant for each target, as the engine last computed it.

Outcomes are not part of the record (the engine derives them from specimens and the programme's rules), yet period
reports over thousands of enrolments need them in the database. `EventOutcome` is a cache, not a ledger: the
services bring an enrollment's rows up to date every time they re-evaluate it (queries.reports.summaries), so it
always says what the ledger was last reconciled with. `EnrollmentSummary` and `EnrollmentWeek` condense the same
rows per enrolment and per enrolment-week for whole-programme reports.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cm_tracker.engine.outcomes import Outcome
from cm_tracker.engine.rules import TargetKind
from cm_tracker.extensions import db
from cm_tracker.models.ledger import EventType, LedgerEntry
from cm_tracker.models.types import UTCDateTime, enum_column


class EventOutcome(db.Model):
    """One event's outcome and award for one target, with the facts reports count (docs/rules.md 8)."""

    __tablename__ = "event_outcomes"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "target_key", "event_type", "event_id"),
        Index("ix_event_outcomes_program_on", "program_id", "occurred_on"),
        Index("ix_event_outcomes_enrollment_on", "enrollment_id", "occurred_on"),
        # Covers the weekly percent-negative chart of a whole programme without reading the table.
        Index("ix_event_outcomes_weekly", "program_id", "is_primary", "week_on", "occurred_on", "outcome",
              "is_submitted", "is_excused"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    target_key: Mapped[str] = mapped_column(String(40))
    target_kind: Mapped[TargetKind] = mapped_column(enum_column(TargetKind))
    # The programme's first abstinence target: percent negative and LDA are reported on it (a primary outcome).
    is_primary: Mapped[bool] = mapped_column(default=False)
    event_type: Mapped[EventType] = mapped_column(enum_column(EventType))
    event_id: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The clinic's date and the Monday of its ISO week, so period and weekly figures need no time-zone arithmetic.
    occurred_on: Mapped[date]
    week_on: Mapped[date]
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome))
    # A specimen with a final result (the denominator of percent negative among submitted samples).
    is_submitted: Mapped[bool] = mapped_column(default=False)
    # Neutral because excused (the patient's absence was documented or the clinic closed).
    is_excused: Mapped[bool] = mapped_column(default=False)
    # The patient came: gave a specimen of any result, refused one, or attended a session (retention, attendance).
    is_attended: Mapped[bool] = mapped_column(default=False)
    points: Mapped[int] = mapped_column(default=0)
    draws: Mapped[int] = mapped_column(default=0)
    value_cents: Mapped[int] = mapped_column(default=0)
    # The part of points / draws that is a bonus (a run bonus, bonus-analyte draws), for the portal's sentences.
    bonus_points: Mapped[int] = mapped_column(default=0)
    bonus_draws: Mapped[int] = mapped_column(default=0)
    level: Mapped[int] = mapped_column(default=0)
    run: Mapped[int] = mapped_column(default=0)
    is_recovered: Mapped[bool] = mapped_column(default=False)
    # A failure that ended a run of successes: the schedule's reset was applied.
    is_reset: Mapped[bool] = mapped_column(default=False)
    is_capped: Mapped[bool] = mapped_column(default=False)


class EnrollmentSummary(db.Model):
    """One enrolment's whole-episode figures as of its last evaluation, so a whole-programme report reads one row
    per enrolment instead of every event (queries.reports.summaries.summary_of says how each is counted)."""

    __tablename__ = "enrollment_summaries"
    __table_args__ = (Index("ix_enrollment_summaries_program", "program_id"),)

    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    successes: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    submitted: Mapped[int] = mapped_column(default=0)
    excused_tests: Mapped[int] = mapped_column(default=0)
    attended_days: Mapped[int] = mapped_column(default=0)
    excused_days: Mapped[int] = mapped_column(default=0)
    last_attended_on: Mapped[date | None]
    lda_samples: Mapped[int] = mapped_column(default=0)
    lda_weeks: Mapped[int] = mapped_column(default=0)
    engine_points: Mapped[int] = mapped_column(default=0)
    engine_cents: Mapped[int] = mapped_column(default=0)
    # Scheduled test visits and visit days due before computed_on (reports add the few due since, live).
    scheduled_tests: Mapped[int] = mapped_column(default=0)
    scheduled_days: Mapped[int] = mapped_column(default=0)
    # The clinic date the summary was computed on: scheduled visits up to the day before count in its LDA weeks.
    computed_on: Mapped[date]
    # The ledger's non-engine entries (manual adjustments, redemptions, prizes) up to ledger_through_id: redemptions
    # and draws post without a re-evaluation, so reports add live only the enrolment's entries after that id
    # (queries.reports.whole_episode). Each entry up to it happened before the end of computed_on.
    ledger_through_id: Mapped[int] = mapped_column(default=0)
    manual_cents: Mapped[int] = mapped_column(default=0)
    manual_points: Mapped[int] = mapped_column(default=0)
    redeemed_points: Mapped[int] = mapped_column(default=0)
    prize_cents: Mapped[int] = mapped_column(default=0)


class EnrollmentWeek(db.Model):
    """One enrolment's primary-target counts in one ISO week as of its last evaluation, so the whole-programme
    weekly percent negative sums a few rows per enrolment instead of every event and visit."""

    __tablename__ = "enrollment_weeks"
    # Covers the weekly chart of a whole programme: read from the index alone.
    __table_args__ = (Index("ix_enrollment_weeks_program", "program_id", "week_on", "successes", "submitted",
                            "failures", "excused", "scheduled_tests"),)

    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), primary_key=True)
    week_on: Mapped[date] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    successes: Mapped[int] = mapped_column(default=0)
    submitted: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    # Excused events (an excused specimen), as the weekly chart counts them.
    excused: Mapped[int] = mapped_column(default=0)
    # Scheduled test visits due before the summary's computed_on (reports add those due since, live).
    scheduled_tests: Mapped[int] = mapped_column(default=0)


# Reports read the ledger's non-engine entries (manual, redemptions, prizes) per enrolment; this covering index lets
# them skip the engine's award rows, which are most of the ledger (and are summed from event_outcomes instead).
Index("ix_ledger_entries_enrollment_kind", LedgerEntry.enrollment_id, LedgerEntry.kind, LedgerEntry.occurred_at,
      LedgerEntry.created_at, LedgerEntry.points, LedgerEntry.value_cents)
# The whole-episode reports ask each enrolment for its last entry id (one index seek) to find the few whose ledger
# moved since their summary, and read only the entries after its ledger_through_id.
Index("ix_ledger_entries_enrollment_id", LedgerEntry.enrollment_id, LedgerEntry.id)
