"""consents and disclosures (42 CFR Part 2): a patient's consents, their revocations, and each disclosure made

All three tables are append-only at the database level like the ledger (the next revision, 3e7c1a9b5d20): a consent
is never changed or removed (it ends by its expiry or a revocation row), and the disclosures are the accounting of
disclosures a patient may ask for.

Revision ID: 58b30fa7dbe9
Revises: d2b8f4a6c1e9
Create Date: 2026-12-01 22:40:26.454105

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '58b30fa7dbe9'
down_revision = 'd2b8f4a6c1e9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('discloser', sa.String(length=200), nullable=False),
    sa.Column('information', sa.Text(), nullable=False),
    sa.Column('recipient_kind', sa.Enum('named', 'tpo_class', name='recipientkind', native_enum=False, length=24), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('expiry_event', sa.String(length=500), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('expires_on IS NOT NULL OR expiry_event IS NOT NULL', name=op.f('ck_consents_has_expiry')),
    sa.CheckConstraint('expires_on IS NULL OR expires_on >= signed_on', name=op.f('ck_consents_expires_after_signature')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_consents_patient_id_patients')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consents_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    info={'append_only': True}
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index('ix_consents_patient', ['patient_id', 'signed_on'], unique=False)
    op.create_table('consent_revocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_consent_revocations_consent_id_consents')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_consent_revocations_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_revocations')),
    sa.UniqueConstraint('consent_id', name=op.f('uq_consent_revocations_consent_id')),
    info={'append_only': True}
    )
    op.create_table('disclosures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('disclosed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_disclosures_consent_id_consents')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_disclosures_patient_id_patients')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_disclosures_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosures')),
    info={'append_only': True}
    )
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosures_consent_id'), ['consent_id'], unique=False)
        batch_op.create_index('ix_disclosures_patient', ['patient_id', 'disclosed_on'], unique=False)


def downgrade():
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosures_patient')
        batch_op.drop_index(batch_op.f('ix_disclosures_consent_id'))
    op.drop_table('disclosures')
    op.drop_table('consent_revocations')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_patient')
    op.drop_table('consents')
