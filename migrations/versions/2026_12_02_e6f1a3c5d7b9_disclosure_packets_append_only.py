"""disclosure packets and revocation requests are append-only: the database refuses UPDATE, DELETE and TRUNCATE

Revision ID: e6f1a3c5d7b9
Revises: a7c2e4f6b8d1
Create Date: 2026-12-02 00:45:00

The same guard as the consents (revision 3e7c1a9b5d20, whose PostgreSQL function cm_refuse_change this reuses): what
left the programme with a disclosure, and a patient's request to revoke, are kept as written.
"""

from alembic import op

revision = "e6f1a3c5d7b9"
down_revision = "a7c2e4f6b8d1"
branch_labels = None
depends_on = None

TABLES = ("consent_revocation_requests", "disclosure_packets")


def upgrade() -> None:
    _append_only(True)


def downgrade() -> None:
    _append_only(False)


def _append_only(create: bool) -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgresql and create:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION cm_refuse_change()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION cm_refuse_change()")
        elif postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            for verb in ("UPDATE", "DELETE"):
                if create:
                    op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                               f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
                else:
                    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb.lower()}")
