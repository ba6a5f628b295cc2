"""lab bodies are append-only: the database refuses UPDATE, DELETE and TRUNCATE on lab_bodies

Revision ID: d2b8f4a6c1e9
Revises: fe3acc13b8ee
Create Date: 2026-12-01 22:15:00

Every body a lab sends is kept exactly as received (nothing a lab sends is lost), so it gets the same guard as the
ledger and the audit trail (revision b7e1c0a4d2f9, whose PostgreSQL function cm_refuse_change this reuses).
"""

from alembic import op

revision = "d2b8f4a6c1e9"
down_revision = "fe3acc13b8ee"
branch_labels = None
depends_on = None

TABLE = "lab_bodies"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
                   "FOR EACH ROW EXECUTE FUNCTION cm_refuse_change()")
        # TRUNCATE bypasses row triggers; refuse it too.
        op.execute(f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION cm_refuse_change()")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
                   f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{verb}")
