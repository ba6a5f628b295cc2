"""stored state per enrolment and target: streak, level and the next success's award, kept by the evaluation

Revision ID: d7b3e5a1c9f2
Revises: c4f2a9d81e37
Create Date: 2026-12-01 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7b3e5a1c9f2'
down_revision = 'c4f2a9d81e37'
branch_labels = None
depends_on = None


def upgrade():
    # Empty at first: readers evaluate an enrolment without a row themselves until its next evaluation, and
    # `flask reports rebuild` fills every row at once.
    op.create_table(
        'target_states',
        sa.Column('enrollment_id', sa.Integer(), nullable=False),
        sa.Column('target_key', sa.String(length=40), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('run', sa.Integer(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('next_points', sa.Integer(), nullable=False),
        sa.Column('next_draws', sa.Integer(), nullable=False),
        sa.Column('next_explanation', sa.Text(), nullable=False),
        sa.Column('reset_points', sa.Integer(), nullable=False),
        sa.Column('reset_draws', sa.Integer(), nullable=False),
        sa.Column('reset_explanation', sa.Text(), nullable=False),
        sa.Column('computed_on', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_target_states_enrollment_id_enrollments')),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_target_states_patient_id_patients')),
        sa.PrimaryKeyConstraint('enrollment_id', 'target_key', name=op.f('pk_target_states')),
    )
    op.create_index('ix_target_states_patient', 'target_states', ['patient_id'], unique=False)


def downgrade():
    op.drop_index('ix_target_states_patient', table_name='target_states')
    op.drop_table('target_states')
