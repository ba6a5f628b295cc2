"""catalog items may carry a Spanish name (rewards.name_es) that Spanish-speaking patients read in the portal

Revision ID: c9e2a7d4b1f8
Revises: b7e1c4d9a2f6
Create Date: 2026-12-01 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c9e2a7d4b1f8'
down_revision = 'b7e1c4d9a2f6'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch copy): nullable, so every existing item keeps its one name until a manager adds one.
    op.add_column('rewards', sa.Column('name_es', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.drop_column('name_es')
