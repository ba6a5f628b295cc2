"""lab results: bodies as received, their arrivals, what became of each accession, the clinic's LOINC codes, and
the accession a specimen carries to the lab

lab_bodies is append-only at the database level like the ledger (the next revision, d2b8f4a6c1e9); the accession
is unique per patient (NULLs are not compared, so desk specimens without one are unaffected).

Revision ID: fe3acc13b8ee
Revises: c9e2a7d4b1f8
Create Date: 2026-12-01 21:37:47.374395

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fe3acc13b8ee'
down_revision = 'c9e2a7d4b1f8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lab_bodies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lab_bodies')),
    sa.UniqueConstraint('digest', name=op.f('uq_lab_bodies_digest')),
    info={'append_only': True}
    )
    op.create_table('lab_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('format', sa.Enum('fhir', 'hl7v2', 'csv', name='labformat', native_enum=False, length=24), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('status', sa.Enum('received', 'applied', 'held', 'refused', name='labmessagestatus', native_enum=False, length=24), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['body_id'], ['lab_bodies.id'], name=op.f('fk_lab_messages_body_id_lab_bodies')),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_lab_messages_sender_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lab_messages'))
    )
    with op.batch_alter_table('lab_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lab_messages_body_id'), ['body_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lab_messages_received_at'), ['received_at'], unique=False)

    op.create_table('loinc_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('analytes', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_loinc_codes_added_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loinc_codes')),
    sa.UniqueConstraint('code', name=op.f('uq_loinc_codes_code'))
    )
    op.create_table('lab_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=120), nullable=False),
    sa.Column('accession', sa.String(length=64), nullable=False),
    sa.Column('record_number', sa.String(length=40), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('specimen_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.Enum('created', 'completed', 'corrected', 'unchanged', 'withdrawn', 'held', name='labaction', native_enum=False, length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('content_digest', sa.String(length=64), nullable=False),
    sa.Column('review_status', sa.Enum('waiting', 'matched', 'dismissed', name='reviewstatus', native_enum=False, length=24), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.Column('resolved_by_result_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['lab_messages.id'], name=op.f('fk_lab_results_message_id_lab_messages')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_lab_results_patient_id_patients')),
    sa.ForeignKeyConstraint(['resolved_by_result_id'], ['lab_results.id'], name=op.f('fk_lab_results_resolved_by_result_id_lab_results')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_lab_results_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['specimen_id'], ['specimens.id'], name=op.f('fk_lab_results_specimen_id_specimens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lab_results'))
    )
    with op.batch_alter_table('lab_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lab_results_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_lab_results_patient_accession', ['patient_id', 'accession'], unique=False)
        batch_op.create_index('ix_lab_results_review', ['review_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_lab_results_specimen_id'), ['specimen_id'], unique=False)

    # Plain ADD COLUMN and CREATE INDEX (no batch copy of the specimens table).
    op.add_column('specimens', sa.Column('accession', sa.String(length=64), nullable=True))
    op.create_index('ix_specimens_patient_accession', 'specimens', ['patient_id', 'accession'], unique=True)


def downgrade():
    op.drop_index('ix_specimens_patient_accession', table_name='specimens')
    with op.batch_alter_table('specimens', schema=None) as batch_op:
        batch_op.drop_column('accession')

    with op.batch_alter_table('lab_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lab_results_specimen_id'))
        batch_op.drop_index('ix_lab_results_review')
        batch_op.drop_index('ix_lab_results_patient_accession')
        batch_op.drop_index(batch_op.f('ix_lab_results_message_id'))

    op.drop_table('lab_results')
    op.drop_table('loinc_codes')
    with op.batch_alter_table('lab_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lab_messages_received_at'))
        batch_op.drop_index(batch_op.f('ix_lab_messages_body_id'))

    op.drop_table('lab_messages')
    op.drop_table('lab_bodies')
