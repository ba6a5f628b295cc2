"""visit plans count visits per week; each enrollment keeps its own days for the plan's weeks

Revision ID: b7e1c4d9a2f6
Revises: a8d4e2c6f1b3
Create Date: 2026-12-01 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e1c4d9a2f6'
down_revision = 'a8d4e2c6f1b3'
branch_labels = None
depends_on = None

programs = sa.table('programs', sa.column('id', sa.Integer), sa.column('visit_plan', sa.JSON))
enrollments = sa.table('enrollments', sa.column('id', sa.Integer), sa.column('program_id', sa.Integer),
                       sa.column('visit_plan', sa.JSON))


def upgrade():
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_plan', sa.JSON(), nullable=True))
    conn = op.get_bind()
    # A part's fixed days become its default days, and their number its visits a week; every current enrollment
    # keeps exactly the days it has (the programme's), so that no visit moves.
    for program_id, plan in conn.execute(sa.select(programs.c.id, programs.c.visit_plan)).all():
        if not plan:
            continue
        parts = [{'from_week': p['from_week'], 'to_week': p['to_week'],
                  'per_week': p.get('per_week') or len(p['days']), 'days': list(p['days'])} for p in plan]
        conn.execute(programs.update().where(programs.c.id == program_id).values(visit_plan=parts))
        conn.execute(enrollments.update().where(enrollments.c.program_id == program_id).values(visit_plan=parts))


def downgrade():
    conn = op.get_bind()
    for program_id, plan in conn.execute(sa.select(programs.c.id, programs.c.visit_plan)).all():
        if plan:
            parts = [{'from_week': p['from_week'], 'to_week': p['to_week'], 'days': list(p['days'])} for p in plan]
            conn.execute(programs.update().where(programs.c.id == program_id).values(visit_plan=parts))
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_column('visit_plan')
