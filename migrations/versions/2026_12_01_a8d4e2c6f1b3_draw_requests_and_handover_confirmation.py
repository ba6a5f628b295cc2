"""prize draws are idempotent (draw_requests) and a programme may ask to confirm hand-overs above a value

Revision ID: a8d4e2c6f1b3
Revises: f3c1d9a7b5e2
Create Date: 2026-12-01 18:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8d4e2c6f1b3'
down_revision = 'f3c1d9a7b5e2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'draw_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=120), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('response', sa.JSON(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_draw_requests_created_by_id_users')),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_draw_requests_patient_id_patients')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_requests')),
        sa.UniqueConstraint('patient_id', 'idempotency_key',
                            name=op.f('uq_draw_requests_patient_id_idempotency_key')),
    )
    # A plain ADD COLUMN (no batch copy): nullable, so existing programmes never ask for a confirmation.
    op.add_column('programs', sa.Column('confirm_handover_above_cents', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.drop_column('confirm_handover_above_cents')
    op.drop_table('draw_requests')
