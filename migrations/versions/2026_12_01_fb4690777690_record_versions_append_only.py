"""record versions are append-only: the database refuses UPDATE, DELETE and TRUNCATE on record_versions

Revision ID: fb4690777690
Revises: e5a8c3f7b2d4
Create Date: 2026-12-01 15:30:00

A correction keeps every earlier version of a specimen, an attendance mark or an activity as a row here; rewriting
one would rewrite the record's history, so it gets the same guard as the ledger and the audit trail (revision
b7e1c0a4d2f9, whose PostgreSQL function cm_refuse_change this reuses).
"""

from alembic import op

revision = "fb4690777690"
down_revision = "e5a8c3f7b2d4"
branch_labels = None
depends_on = None

TABLE = "record_versions"


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
