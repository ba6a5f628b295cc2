"""audit rows name every patient a list or a report showed (audit_events.patient_ids)

Revision ID: f3c1d9a7b5e2
Revises: fb4690777690
Create Date: 2026-12-01 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3c1d9a7b5e2'
down_revision = 'fb4690777690'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch copy): on SQLite rebuilding the table would drop its append-only triggers.
    op.add_column('audit_events', sa.Column('patient_ids', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('audit_events', 'patient_ids')
