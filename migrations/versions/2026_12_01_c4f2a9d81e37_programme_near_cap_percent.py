"""programme setting: the share of the cap from which a patient is near the cap (dashboard and budget report)

Revision ID: c4f2a9d81e37
Revises: 8c36c3f04106
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4f2a9d81e37'
down_revision = '8c36c3f04106'
branch_labels = None
depends_on = None


def upgrade():
    # Existing programmes take the budget report's threshold until a manager changes it.
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('near_cap_percent', sa.Integer(), nullable=False, server_default='80'))
        batch_op.create_check_constraint(op.f('ck_programs_near_cap_percent_range'),
                                         'near_cap_percent BETWEEN 1 AND 100')


def downgrade():
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_programs_near_cap_percent_range'), type_='check')
        batch_op.drop_column('near_cap_percent')
