"""disclosure packets and revocation requests (42 CFR Part 2)

A disclosure packet is what left the programme with a disclosure (the records as printed, with the notice and the
consent); a revocation request is a patient's portal request to revoke a consent, until staff record the revocation.
Both are append-only like the consents (the next revision, e6f1a3c5d7b9, adds the triggers).

Revision ID: a7c2e4f6b8d1
Revises: 3e7c1a9b5d20
Create Date: 2026-12-02 00:28:12.522394

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c2e4f6b8d1'
down_revision = '3e7c1a9b5d20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consent_revocation_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_consent_revocation_requests_consent_id_consents')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_consent_revocation_requests_patient_id_patients')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_consent_revocation_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_revocation_requests')),
    sa.UniqueConstraint('consent_id', name=op.f('uq_consent_revocation_requests_consent_id')),
    info={'append_only': True}
    )
    with op.batch_alter_table('consent_revocation_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_revocation_requests_patient_id'), ['patient_id'], unique=False)

    op.create_table('disclosure_packets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('disclosure_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('sections', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('content_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['disclosure_id'], ['disclosures.id'], name=op.f('fk_disclosure_packets_disclosure_id_disclosures')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_packets')),
    sa.UniqueConstraint('disclosure_id', name=op.f('uq_disclosure_packets_disclosure_id')),
    info={'append_only': True}
    )


def downgrade():
    op.drop_table('disclosure_packets')
    with op.batch_alter_table('consent_revocation_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_revocation_requests_patient_id'))

    op.drop_table('consent_revocation_requests')
