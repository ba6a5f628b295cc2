"""The voucher catalog, the prize cabinet with its stock, prize draws and redemptions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cm_tracker.extensions import db
from cm_tracker.models.types import UTCDateTime, enum_column, now_default


class RewardKind(enum.StrEnum):
    VOUCHER = "voucher"  # bought with points from the catalog
    PRIZE = "prize"  # chosen from the cabinet after a winning draw of its tier


class Reward(db.Model):
    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("value_cents >= 0", name="value_not_negative"),
        CheckConstraint("cost_points IS NULL OR cost_points > 0", name="cost_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id"), index=True)
    kind: Mapped[RewardKind] = mapped_column(enum_column(RewardKind))
    name: Mapped[str] = mapped_column(String(120))
    # The name Spanish-speaking patients read in the portal; None: they read `name` as written.
    name_es: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    cost_points: Mapped[int | None]
    tier: Mapped[str | None] = mapped_column(String(24))
    value_cents: Mapped[int]
    # Whether stock is counted (gift cards, cabinet items); a service voucher may be unlimited.
    is_stocked: Mapped[bool] = mapped_column(default=True)
    low_stock_threshold: Mapped[int] = mapped_column(default=3)
    is_active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class StockMovementKind(enum.StrEnum):
    RESTOCK = "restock"
    HANDOVER = "handover"
    COUNT_CORRECTION = "count_correction"


class StockMovement(db.Model):
    """Stock on hand is the sum of movements; a count that disagrees posts a correction with the discrepancy."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_reward", "reward_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    kind: Mapped[StockMovementKind] = mapped_column(enum_column(StockMovementKind))
    quantity: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class StockCount(db.Model):
    __tablename__ = "stock_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"), index=True)
    expected: Mapped[int]
    counted: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    counted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class Draw(db.Model):
    """One slip drawn from the bowl at the desk (docs/rules.md 4.2); a winning tier is claimed with a cabinet item."""

    __tablename__ = "draws"
    __table_args__ = (Index("ix_draws_patient_drawn", "patient_id", "drawn_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    target_key: Mapped[str | None] = mapped_column(String(40))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    # The slip as drawn and the tier granted after the cap (docs/rules.md 5); they differ only when the cap cut it.
    drawn_tier: Mapped[str] = mapped_column(String(24))
    tier: Mapped[str] = mapped_column(String(24))
    value_cents: Mapped[int]
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id"))
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_over_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    reward = relationship("Reward")


class DrawRequest(db.Model):
    """One request for draws that carried an Idempotency-Key (a desk form's one-time token, an API header): a retry
    with the key answers the stored response instead of drawing again (services/core/idempotency.py)."""

    __tablename__ = "draw_requests"
    __table_args__ = (UniqueConstraint("patient_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    idempotency_key: Mapped[str] = mapped_column(String(120))
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)


class RedemptionStatus(enum.StrEnum):
    REQUESTED = "requested"  # asked for in the portal; staff fulfil it at the desk
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class Redemption(db.Model):
    __tablename__ = "redemptions"
    __table_args__ = (
        UniqueConstraint("patient_id", "idempotency_key"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    quantity: Mapped[int]
    points: Mapped[int]
    status: Mapped[RedemptionStatus] = mapped_column(enum_column(RedemptionStatus))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fulfilled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(120))
    # A hash of the request body and the first response, so a replay returns it and another body is refused.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    reward = relationship("Reward")
