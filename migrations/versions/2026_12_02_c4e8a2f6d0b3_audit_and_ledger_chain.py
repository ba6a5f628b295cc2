"""a tamper-evident chain over the audit trail and the ledger (each row's lane, place and HMAC; heads; verifications)

Revision ID: c4e8a2f6d0b3
Revises: b9d3f5a7c2e4
Create Date: 2026-12-02 01:00:00

The existing rows are chained here, in id order, when the key is known (AUDIT_CHAIN_KEY of the app running
`flask db upgrade`, which refuses to start in production without one; else the environment variable): the audit
trail's into its lane 0, each enrolment's ledger entries into the enrolment's lane, in batches. Without a key they
stay unchained, and `flask audit verify` names them (docs/security.md "Tamper-evident chain"). The canonical form and
the column lists are those of the app's chain (services/core/chain.py), written out again: a revision never imports
the app.
The append-only triggers refuse the UPDATE that fills the new columns, so they are set aside around it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "c4e8a2f6d0b3"
down_revision = "b9d3f5a7c2e4"
branch_labels = None
depends_on = None

AUDIT, LEDGER = "audit_events", "ledger_entries"
AUDIT_LANES = 16
BATCH = 5000
CHAINED = {
    AUDIT: ("occurred_at", "user_id", "username", "role", "action", "patient_id", "patient_ids", "object_type",
            "object_id", "outcome", "source_address", "detail"),
    LEDGER: ("patient_id", "enrollment_id", "created_at", "kind", "target_key", "points", "draws", "value_cents",
             "reason", "event_type", "event_id", "occurred_at", "redemption_id", "draw_id", "created_by_id"),
}
_TIMES = {"occurred_at", "created_at"}


def upgrade() -> None:
    for table in (AUDIT, LEDGER):
        # Plain ADD COLUMN (no batch copy): on SQLite rebuilding the table would drop its append-only triggers.
        op.add_column(table, sa.Column("chain_lane", sa.Integer(), nullable=True))
        op.add_column(table, sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        op.add_column(table, sa.Column("chain_hmac", sa.String(length=64), nullable=True))
        op.create_index(f"ix_{table}_chain", table, ["chain_lane", "chain_seq"], unique=True)
    op.create_table(
        "chain_heads",
        sa.Column("chain", sa.String(length=24), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("link", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", "lane", name=op.f("pk_chain_heads")),
    )
    op.create_table(
        "chain_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("audit_rows", sa.BigInteger(), nullable=False),
        sa.Column("ledger_rows", sa.BigInteger(), nullable=False),
        sa.Column("is_intact", sa.Boolean(), nullable=False),
        sa.Column("first_break", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_verifications")),
    )
    key = _key()
    if key is None:
        print("AUDIT_CHAIN_KEY is not set: the existing audit and ledger rows stay unchained.")
        return
    with _triggers_aside():
        heads = _chain_rows(key, AUDIT, lambda row: 0) + _chain_rows(key, LEDGER, lambda row: row["enrollment_id"])
    heads += [{"chain": AUDIT, "lane": lane, "sequence": 0, "link": ""} for lane in range(1, AUDIT_LANES + 1)]
    op.bulk_insert(sa.table("chain_heads", sa.column("chain"), sa.column("lane"), sa.column("sequence"),
                            sa.column("link")), heads)


def downgrade() -> None:
    op.drop_table("chain_verifications")
    op.drop_table("chain_heads")
    for table in (AUDIT, LEDGER):
        op.drop_index(f"ix_{table}_chain", table_name=table)
        for column in ("chain_hmac", "chain_seq", "chain_lane"):
            op.drop_column(table, column)


def _key() -> bytes | None:
    try:
        from flask import current_app

        configured = current_app.config.get("AUDIT_CHAIN_KEY")
    except RuntimeError:  # alembic run without the app
        configured = None
    configured = configured or os.environ.get("AUDIT_CHAIN_KEY")
    return str(configured).encode() if configured else None


def _chain_rows(key: bytes, name: str, lane_of: Any) -> list[dict[str, Any]]:
    """Chain every row of `name` in id order, BATCH rows a statement; the heads of the lanes it filled."""
    columns = [sa.column("id", sa.Integer())] + [_column(c) for c in CHAINED[name]]
    table = sa.table(name, *columns, sa.column("chain_lane"), sa.column("chain_seq"), sa.column("chain_hmac"))
    write = (sa.update(table).where(table.c.id == sa.bindparam("row_id"))
             .values(chain_lane=sa.bindparam("lane_"), chain_seq=sa.bindparam("seq_"), chain_hmac=sa.bindparam("mac_")))
    lanes: dict[int, tuple[int, str]] = {}
    bind = op.get_bind()
    for batch in _batches(bind, table):
        changes = []
        for row in batch:
            lane = int(lane_of(row))
            seq, previous = lanes.get(lane, (0, ""))
            content = json.dumps([name, lane, seq + 1, *(_plain(row[c]) for c in CHAINED[name])],
                                 separators=(",", ":"), sort_keys=True, ensure_ascii=True).encode()
            link = hmac.new(key, previous.encode() + b"\n" + content, hashlib.sha256).hexdigest()
            lanes[lane] = (seq + 1, link)
            changes.append({"row_id": row["id"], "lane_": lane, "seq_": seq + 1, "mac_": link})
        bind.execute(write, changes)
    return [{"chain": name, "lane": lane, "sequence": seq, "link": link} for lane, (seq, link) in lanes.items()]


def _column(name: str) -> sa.ColumnClause[Any]:
    if name in _TIMES:
        return sa.column(name, sa.DateTime(timezone=True))
    return sa.column(name, sa.JSON()) if name == "detail" else sa.column(name)


def _batches(bind: sa.Connection, table: Any) -> Iterator[list[Any]]:
    after = 0
    while True:
        rows = bind.execute(sa.select(table).where(table.c.id > after).order_by(table.c.id).limit(BATCH)).mappings()
        batch = list(rows)
        if not batch:
            return
        yield batch
        after = batch[-1]["id"]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


class _triggers_aside:
    """The UPDATE guards of both tables set aside while the new columns are filled, and put back as they were
    (revision b7e1c0a4d2f9)."""

    def __enter__(self) -> None:
        for table in (AUDIT, LEDGER):
            if _postgres():
                op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")

    def __exit__(self, *_exc: object) -> None:
        for table in (AUDIT, LEDGER):
            if _postgres():
                op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
            else:
                op.execute(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"
