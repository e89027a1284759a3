"""flags: the account that reported (so that the report's text goes with the account)

Revision ID: 5b1f0c2d9e47
Revises: a805b797f2a2
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1f0c2d9e47'
down_revision = 'a805b797f2a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_flags_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_flags_reporter_id_users'), 'users', ['reporter_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_flags_reporter_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_flags_reporter_id'))
        batch_op.drop_column('reporter_id')
