"""a second factor for staff (TOTP, RFC 6238): reserved for issue 15's enrolment; no change yet

Revision ID: b9d3f5a7c2e4
Revises: e6f1a3c5d7b9
Create Date: 2026-12-02 00:40:00

"""

revision = "b9d3f5a7c2e4"
down_revision = "e6f1a3c5d7b9"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
