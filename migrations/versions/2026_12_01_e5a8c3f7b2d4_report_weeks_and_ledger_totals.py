"""report cache: per-week counts, the ledger's non-engine totals in the summary, the bonus parts of cached awards

Revision ID: e5a8c3f7b2d4
Revises: d7b3e5a1c9f2
Create Date: 2026-12-01 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a8c3f7b2d4'
down_revision = 'd7b3e5a1c9f2'
branch_labels = None
depends_on = None

# The weeks of every summarised enrolment, from the cached outcomes and the test visits its summary counted, as
# queries.reports.summaries.week_rows writes them (so whole-programme weekly charts stay right before a rebuild).
FILL_WEEKS = """
INSERT INTO enrollment_weeks (enrollment_id, week_on, program_id, successes, submitted, failures, excused,
                              scheduled_tests)
SELECT enrollment_id, week_on, MIN(program_id), SUM(s), SUM(sub), SUM(f), SUM(x), SUM(n) FROM (
    SELECT o.enrollment_id, o.week_on, o.program_id,
           CASE WHEN o.outcome = 'success' THEN 1 ELSE 0 END AS s,
           CASE WHEN o.is_submitted THEN 1 ELSE 0 END AS sub,
           CASE WHEN o.outcome = 'failure' THEN 1 ELSE 0 END AS f,
           CASE WHEN o.is_excused THEN 1 ELSE 0 END AS x, 0 AS n
    FROM event_outcomes o JOIN enrollment_summaries es ON es.enrollment_id = o.enrollment_id
    WHERE o.is_primary
    UNION ALL
    SELECT v.enrollment_id, {monday} AS week_on, es.program_id, 0, 0, 0, 0, 1
    FROM scheduled_visits v JOIN enrollment_summaries es ON es.enrollment_id = v.enrollment_id
    WHERE v.kind = 'test' AND v.due_on < es.computed_on
) AS parts GROUP BY enrollment_id, week_on
"""
MONDAY = {"sqlite": "date(v.due_on, 'weekday 0', '-6 days')",
          "postgresql": "CAST(date_trunc('week', v.due_on) AS DATE)"}


def upgrade():
    op.create_table(
        'enrollment_weeks',
        sa.Column('enrollment_id', sa.Integer(), nullable=False),
        sa.Column('week_on', sa.Date(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('successes', sa.Integer(), nullable=False),
        sa.Column('submitted', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('excused', sa.Integer(), nullable=False),
        sa.Column('scheduled_tests', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'],
                                name=op.f('fk_enrollment_weeks_enrollment_id_enrollments')),
        sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_enrollment_weeks_program_id_programs')),
        sa.PrimaryKeyConstraint('enrollment_id', 'week_on', name=op.f('pk_enrollment_weeks')),
    )
    op.create_index('ix_enrollment_weeks_program', 'enrollment_weeks',
                    ['program_id', 'week_on', 'successes', 'submitted', 'failures', 'excused', 'scheduled_tests'],
                    unique=False)
    # Totals start at zero through entry 0: every entry counts live until the enrolment's next evaluation or
    # `flask reports rebuild` (right, only slower).
    with op.batch_alter_table('enrollment_summaries', schema=None) as batch_op:
        for name in ('ledger_through_id', 'manual_cents', 'manual_points', 'redeemed_points', 'prize_cents'):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('enrollment_summaries', schema=None) as batch_op:
        for name in ('ledger_through_id', 'manual_cents', 'manual_points', 'redeemed_points', 'prize_cents'):
            batch_op.alter_column(name, server_default=None)
    # Bonus parts of cached awards: zero until `flask reports rebuild` (or the enrolment's next evaluation)
    # recomputes them, so the portal may word an older bonus award without its "(+ bonus)" until then.
    with op.batch_alter_table('event_outcomes', schema=None) as batch_op:
        for name in ('bonus_points', 'bonus_draws'):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_ledger_entries_enrollment_id', 'ledger_entries', ['enrollment_id', 'id'], unique=False)
    bind = op.get_bind()
    op.execute(FILL_WEEKS.format(monday=MONDAY[bind.dialect.name]))


def downgrade():
    op.drop_index('ix_ledger_entries_enrollment_id', table_name='ledger_entries')
    with op.batch_alter_table('event_outcomes', schema=None) as batch_op:
        batch_op.drop_column('bonus_draws')
        batch_op.drop_column('bonus_points')
    with op.batch_alter_table('enrollment_summaries', schema=None) as batch_op:
        for name in ('prize_cents', 'redeemed_points', 'manual_points', 'manual_cents', 'ledger_through_id'):
            batch_op.drop_column(name)
    op.drop_index('ix_enrollment_weeks_program', table_name='enrollment_weeks')
    op.drop_table('enrollment_weeks')
