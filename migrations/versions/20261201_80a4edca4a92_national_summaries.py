"""national summaries: a summary without a consultation (title, the consultations it
compiles), and the order of pinned contributions

Revision ID: 80a4edca4a92
Revises: c7d2e5a1b9f3
Create Date: 2026-12-01 21:07:01.124929

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '80a4edca4a92'
down_revision = 'c7d2e5a1b9f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('summary_consultations',
    sa.Column('summary_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_summary_consultations_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['summary_id'], ['summaries.id'], name=op.f('fk_summary_consultations_summary_id_summaries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('summary_id', 'consultation_id', name=op.f('pk_summary_consultations'))
    )
    with op.batch_alter_table('summary_consultations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_summary_consultations_consultation_id'), ['consultation_id'], unique=False)

    with op.batch_alter_table('summaries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.alter_column('consultation_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_summaries_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_summaries_created_by_id_users'), 'users', ['created_by_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('summary_section_pins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    # National summaries cannot exist without the column being nullable: remove them, and
    # what hangs on them (foreign keys are off during a run on SQLite, so no cascade).
    national = "SELECT id FROM summaries WHERE consultation_id IS NULL"
    for table in ("summary_section_pins", "summary_sections", "summary_versions", "summary_consultations"):
        op.execute(f"DELETE FROM {table} WHERE summary_id IN ({national})")
    op.execute("DELETE FROM summaries WHERE consultation_id IS NULL")
    with op.batch_alter_table('summary_section_pins', schema=None) as batch_op:
        batch_op.drop_column('position')

    with op.batch_alter_table('summaries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_summaries_created_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_summaries_created_by_id'))
        batch_op.alter_column('consultation_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('title')

    with op.batch_alter_table('summary_consultations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_summary_consultations_consultation_id'))

    op.drop_table('summary_consultations')
