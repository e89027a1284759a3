"""objective counts: active contributions per consultation, GCM objective and kind, kept
by triggers, so that the objective pages add up a few rows instead of counting every
contribution (issue 14)

Revision ID: e4b8c1d2a3f5
Revises: 80a4edca4a92
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b8c1d2a3f5'
down_revision = '80a4edca4a92'
branch_labels = None
depends_on = None

# What each trigger does, the same on both databases: a contribution counts under each of
# its objectives while its status is 'active'.
_ADD_TAG = """
    INSERT INTO objective_counts (consultation_id, objective, kind, total)
    SELECT c.consultation_id, {tag}.objective, c.kind, 1 FROM contributions c
    WHERE c.id = {tag}.contribution_id AND c.status = 'active'
    ON CONFLICT (consultation_id, objective, kind) DO UPDATE SET total = objective_counts.total + 1;
"""
_REMOVE_TAG = """
    UPDATE objective_counts SET total = total - 1
    WHERE objective = {tag}.objective AND (consultation_id, kind) IN (
        SELECT c.consultation_id, c.kind FROM contributions c WHERE c.id = {tag}.contribution_id AND c.status = 'active');
"""
_REMOVE_CONTRIBUTION = """
    UPDATE objective_counts SET total = total - 1
    WHERE {row}.status = 'active' AND consultation_id = {row}.consultation_id AND kind = {row}.kind
      AND objective IN (SELECT objective FROM contribution_objectives WHERE contribution_id = {row}.id);
"""
_ADD_CONTRIBUTION = """
    INSERT INTO objective_counts (consultation_id, objective, kind, total)
    SELECT {row}.consultation_id, co.objective, {row}.kind, 1 FROM contribution_objectives co
    WHERE co.contribution_id = {row}.id AND {row}.status = 'active'
    ON CONFLICT (consultation_id, objective, kind) DO UPDATE SET total = objective_counts.total + 1;
"""
_CHANGED = (
    "(OLD.status = 'active') <> (NEW.status = 'active') OR (NEW.status = 'active' AND "
    "(OLD.kind <> NEW.kind OR OLD.consultation_id <> NEW.consultation_id))"
)

# name: (table, timing and event, body)
_TRIGGERS = {
    "objective_counts_tag_added": ("contribution_objectives", "AFTER INSERT", _ADD_TAG.format(tag="NEW")),
    "objective_counts_tag_removed": ("contribution_objectives", "AFTER DELETE", _REMOVE_TAG.format(tag="OLD")),
    "objective_counts_tag_changed": (
        "contribution_objectives", "AFTER UPDATE", _REMOVE_TAG.format(tag="OLD") + _ADD_TAG.format(tag="NEW"),
    ),
    # Before the delete: its tags (deleted by the cascade) no longer find it afterwards.
    "objective_counts_contribution_removed": ("contributions", "BEFORE DELETE", _REMOVE_CONTRIBUTION.format(row="OLD")),
    "objective_counts_contribution_changed": (
        "contributions", "AFTER UPDATE",
        _REMOVE_CONTRIBUTION.format(row="OLD") + _ADD_CONTRIBUTION.format(row="NEW"),
    ),
    # No foreign key on objective_counts (the cascade would remove its rows while the
    # contributions' triggers still update them): a deleted consultation's rows go here.
    "objective_counts_consultation_removed": (
        "consultations", "AFTER DELETE", "DELETE FROM objective_counts WHERE consultation_id = OLD.id;",
    ),
}


def _create_triggers():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, (table, event, body) in _TRIGGERS.items():
        when = _CHANGED if name == "objective_counts_contribution_changed" else None
        if postgresql:
            result = "OLD" if "DELETE" in event else "NEW"
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN {result}; END $$")
            op.execute(
                f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW "
                + (f"WHEN ({when}) " if when else "")
                + f"EXECUTE FUNCTION {name}()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW "
                + (f"WHEN {when} " if when else "")
                + f"BEGIN {body} END"
            )


def _drop_triggers():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, (table, _event, _body) in _TRIGGERS.items():
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade():
    op.create_table('objective_counts',
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('objective', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('total', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('consultation_id', 'objective', 'kind', name=op.f('pk_objective_counts'))
    )
    op.execute(
        "INSERT INTO objective_counts (consultation_id, objective, kind, total) "
        "SELECT c.consultation_id, co.objective, c.kind, count(*) FROM contribution_objectives co "
        "JOIN contributions c ON c.id = co.contribution_id WHERE c.status = 'active' "
        "GROUP BY c.consultation_id, co.objective, c.kind"
    )
    _create_triggers()


def downgrade():
    _drop_triggers()
    op.drop_table('objective_counts')
