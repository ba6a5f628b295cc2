"""The append-only ledger: every balance is a sum of these rows; nothing is updated or deleted (docs/rules.md 2)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cm_tracker.extensions import db
from cm_tracker.models.types import UTCDateTime, enum_column, make_append_only, now_default


class EntryKind(enum.StrEnum):
    AWARD = "award"  # computed by the engine for an event
    ADJUSTMENT = "adjustment"  # the engine's correction after an event changed (docs/rules.md 6)
    MANUAL = "manual"  # a manager's or admin's adjustment with a reason; reported apart for fidelity
    REDEMPTION = "redemption"  # points spent on a catalog item
    DRAW = "draw"  # a draw credit used at the desk
    PRIZE = "prize"  # the nominal value of a prize won, for the cap (0 points)


class EventType(enum.StrEnum):
    SPECIMEN = "specimen"
    ATTENDANCE = "attendance"
    ACTIVITY = "activity"


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_patient_id", "patient_id", "id"),
        Index("ix_ledger_entries_enrollment_event", "enrollment_id", "event_type", "event_id"),
        Index("ix_ledger_entries_created_at", "created_at"),
        Index("ix_ledger_entries_chain", "chain_lane", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind))
    target_key: Mapped[str | None] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(default=0)
    draws: Mapped[int] = mapped_column(default=0)
    # What the entry is worth against the cap (points x point value, or a prize's nominal value).
    value_cents: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(Text)
    event_type: Mapped[EventType | None] = mapped_column(enum_column(EventType))
    event_id: Mapped[int | None]
    # When the event happened, so caps and reports follow the clinic's calendar rather than typing order.
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id"))
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("draws.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The tamper-evident chain (services/core/chain.py): the lane is the enrolment's id, whose writers already hold
    # its lock; the place in the lane and the HMAC of the content and the previous row's link are set before the
    # INSERT. Null only on a row nobody chained.
    chain_lane: Mapped[int | None]
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    chain_hmac: Mapped[str | None] = mapped_column(String(64))


make_append_only(LedgerEntry)
