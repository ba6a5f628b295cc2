"""The heads of the tamper-evident chains over the audit trail and the ledger (services/core/chain.py), and the
record of each `flask audit verify` run. Both are working tables: a head moves with every chained write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cm_tracker.extensions import db
from cm_tracker.models.types import UTCDateTime, now_default


class ChainHead(db.Model):
    """The last place taken in one lane of a chain and that row's link: the next row of the lane is chained to
    `link`, and a lane whose last rows were removed no longer ends where its head says. Updated, under its row lock,
    in the transaction that writes the lane's rows, so only writers of one lane wait for each other."""

    __tablename__ = "chain_heads"

    chain: Mapped[str] = mapped_column(String(24), primary_key=True)  # the chained table's name
    lane: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    link: Mapped[str] = mapped_column(String(64), default="")


class ChainVerification(db.Model):
    """One run of `flask audit verify`, for the admin's audit page (each run is also a chained audit row)."""

    __tablename__ = "chain_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_default)
    scope: Mapped[str] = mapped_column(String(64))  # "whole chain", "rows from id 5000", "rows since 2026-12-01"
    audit_rows: Mapped[int] = mapped_column(BigInteger)
    ledger_rows: Mapped[int] = mapped_column(BigInteger)
    is_intact: Mapped[bool]
    first_break: Mapped[str | None] = mapped_column(Text)
