"""jobs: background jobs (documents, mail) and the stored files of published versions

Revision ID: c7d2e5a1b9f3
Revises: 5b1f0c2d9e47
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7d2e5a1b9f3'
down_revision = '5b1f0c2d9e47'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params_json', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=200), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('file_path', sa.String(length=300), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('mimetype', sa.String(length=120), nullable=True),
    sa.Column('disposition', sa.String(length=500), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_jobs_status')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_jobs_progress')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_jobs_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        for column in ('kind', 'owner_id', 'key', 'status', 'heartbeat_at', 'created_at', 'expires_at'):
            batch_op.create_index(batch_op.f(f'ix_jobs_{column}'), [column], unique=False)


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        for column in ('kind', 'owner_id', 'key', 'status', 'heartbeat_at', 'created_at', 'expires_at'):
            batch_op.drop_index(batch_op.f(f'ix_jobs_{column}'))
    op.drop_table('jobs')
