"""the chain's heads move with their rows, by a trigger on audit_events and ledger_entries

Revision ID: d5f7b9c1e3a5
Revises: c4e8a2f6d0b3
Create Date: 2026-12-02 08:00:00

Every INSERT into a chained table sets its lanes' heads (chain_heads) to the last place and link it wrote, so that a
writer spends no statement of its own on the head: a read's audit row is one INSERT (services/core/chain.py). A head
only moves forward. The same triggers as the models' (models/chain.py `head_trigger_ddl`), written out again: a
revision never imports the app.
"""

from __future__ import annotations

from alembic import op

revision = "d5f7b9c1e3a5"
down_revision = "c4e8a2f6d0b3"
branch_labels = None
depends_on = None

TABLES = ("audit_events", "ledger_entries")

POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION cm_chain_move_heads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE chain_heads h SET sequence = n.chain_seq, link = n.chain_hmac
  FROM (SELECT DISTINCT ON (chain_lane) chain_lane, chain_seq, chain_hmac FROM new_rows
        WHERE chain_lane IS NOT NULL ORDER BY chain_lane, chain_seq DESC) n
  WHERE h.chain = TG_TABLE_NAME AND h.lane = n.chain_lane AND h.sequence <= n.chain_seq;
  RETURN NULL;
END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_chain_head AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
                       "FOR EACH STATEMENT EXECUTE FUNCTION cm_chain_move_heads()")
        return
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_chain_head AFTER INSERT ON {table} WHEN NEW.chain_lane IS NOT NULL "
                   f"BEGIN UPDATE chain_heads SET sequence = NEW.chain_seq, link = NEW.chain_hmac "
                   f"WHERE chain = '{table}' AND lane = NEW.chain_lane AND sequence <= NEW.chain_seq; END")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_chain_head" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS cm_chain_move_heads()")
