"""The audit trail: one append-only row per change, per view of a patient's record and per denied attempt."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ColumnElement, Index, String, Text, or_
from sqlalchemy.orm import Mapped, mapped_column

from cm_tracker.extensions import db
from cm_tracker.models.types import UTCDateTime, enum_column, make_append_only, now_default


class AuditOutcome(enum.StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_patient_at", "patient_id", "occurred_at"),
        Index("ix_audit_events_user_at", "user_id", "occurred_at"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_chain", "chain_lane", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    # No foreign keys: the trail must outlive anything it mentions, and must never block a write.
    user_id: Mapped[int | None]
    username: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[int | None]
    # The patients a list or a report showed (`listed`), so that one row per view is found by any of them.
    patient_ids: Mapped[str | None] = mapped_column(Text)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[AuditOutcome] = mapped_column(enum_column(AuditOutcome))
    source_address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The tamper-evident chain (services/core/chain.py): the row's lane, its place in the lane and the HMAC of its
    # content and the previous row's link, set before the INSERT. Null only on a row nobody chained.
    chain_lane: Mapped[int | None]
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    chain_hmac: Mapped[str | None] = mapped_column(String(64))

    @property
    def listed_patient_ids(self) -> list[int]:
        return [int(part) for part in (self.patient_ids or "").split(",") if part]

    @classmethod
    def names_any(cls, patient_ids: Iterable[int]) -> ColumnElement[bool]:
        """The row is about one of these patients: as its own, or among those its list or report showed."""
        ids = list(patient_ids)
        return or_(cls.patient_id.in_(ids), *(cls.patient_ids.contains(f",{pid},") for pid in ids))


def listed(patient_ids: Iterable[int]) -> str | None:
    """The stored form of `patient_ids`: ",3,5,9,", each id between commas, so a LIKE on ",5," finds exactly 5
    (never 15 or 51) in one append-only row, written by one INSERT however many patients a page showed."""
    ids = sorted(set(patient_ids))
    return "," + ",".join(map(str, ids)) + "," if ids else None


make_append_only(AuditEvent)
