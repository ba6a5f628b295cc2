"""consents, their revocations and disclosures are append-only: the database refuses UPDATE, DELETE and TRUNCATE

Revision ID: 3e7c1a9b5d20
Revises: 58b30fa7dbe9
Create Date: 2026-12-01 22:50:00

A programme must show the consent behind every disclosure and keep both for six years (docs/part2.md), so they get
the same guard as the ledger and the audit trail (revision b7e1c0a4d2f9, whose PostgreSQL function cm_refuse_change
this reuses). A consent ends by its expiry or by a revocation row, never by an UPDATE.
"""

from alembic import op

revision = "3e7c1a9b5d20"
down_revision = "58b30fa7dbe9"
branch_labels = None
depends_on = None

TABLES = ("consents", "consent_revocations", "disclosures")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgresql:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION cm_refuse_change()")
            # TRUNCATE bypasses row triggers; refuse it too.
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION cm_refuse_change()")
            continue
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            continue
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
