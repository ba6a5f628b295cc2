"""The heads of the tamper-evident chains over the audit trail and the ledger (services/core/chain.py), and the
record of each `flask audit verify` run. Both are working tables: a head moves with every chained write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, String, Text, event
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


# Each chain's head moves with its rows, by a trigger on the chained table: the INSERT that writes a lane's rows
# also sets the lane's head to its last place and link, so no writer spends a statement of its own on it (a read's
# audit row is one INSERT, services/core/chain.py). A head only moves forward: a writer that took its places first
# (an UPDATE of the head's sequence) finds the head already at its last row, which sets only the link. The
# migration d5f7b9c1e3a5 makes the same triggers on a migrated database.
CHAINED_TABLES = ("audit_events", "ledger_entries")


def head_trigger_ddl(dialect: str) -> list[str]:
    """The statements that make the head-moving triggers on this dialect: on PostgreSQL a statement-level trigger
    (one UPDATE per INSERT statement, however many rows it wrote), on SQLite one per row."""
    if dialect == "postgresql":
        return [
            """CREATE OR REPLACE FUNCTION cm_chain_move_heads() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              UPDATE chain_heads h SET sequence = n.chain_seq, link = n.chain_hmac
              FROM (SELECT DISTINCT ON (chain_lane) chain_lane, chain_seq, chain_hmac FROM new_rows
                    WHERE chain_lane IS NOT NULL ORDER BY chain_lane, chain_seq DESC) n
              WHERE h.chain = TG_TABLE_NAME AND h.lane = n.chain_lane AND h.sequence <= n.chain_seq;
              RETURN NULL;
            END $$""",
            *(f"""CREATE TRIGGER {table}_chain_head AFTER INSERT ON {table}
                  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cm_chain_move_heads()"""
              for table in CHAINED_TABLES),
        ]
    return [f"""CREATE TRIGGER {table}_chain_head AFTER INSERT ON {table} WHEN NEW.chain_lane IS NOT NULL
                BEGIN
                  UPDATE chain_heads SET sequence = NEW.chain_seq, link = NEW.chain_hmac
                  WHERE chain = '{table}' AND lane = NEW.chain_lane AND sequence <= NEW.chain_seq;
                END""" for table in CHAINED_TABLES]


@event.listens_for(db.metadata, "after_create")
def _make_head_triggers(_metadata: Any, connection: Connection, **kw: Any) -> None:
    """A schema built by `create_all` (the test suite's) gets the triggers the migration makes."""
    tables = kw.get("tables")
    if tables is not None and not {t.name for t in tables} >= {*CHAINED_TABLES, ChainHead.__tablename__}:
        return
    for statement in head_trigger_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)
