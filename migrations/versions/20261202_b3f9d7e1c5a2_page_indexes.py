"""page indexes: a roundtable's contributions in id order and a consultation's open
challenges newest first, so that the roundtable page and the challenge picker read one
page of rows whatever the size of the database (issue 14)

Revision ID: b3f9d7e1c5a2
Revises: e4b8c1d2a3f5
Create Date: 2026-12-02 10:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3f9d7e1c5a2'
down_revision = 'e4b8c1d2a3f5'
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX (no batch mode: SQLite must not rebuild the table and lose its triggers).
    op.create_index('ix_contributions_roundtable_status_id', 'contributions', ['roundtable_id', 'status', 'id'])
    op.create_index(
        'ix_contributions_consultation_kind_status_id', 'contributions', ['consultation_id', 'kind', 'status', 'id']
    )


def downgrade():
    op.drop_index('ix_contributions_consultation_kind_status_id', table_name='contributions')
    op.drop_index('ix_contributions_roundtable_status_id', table_name='contributions')
