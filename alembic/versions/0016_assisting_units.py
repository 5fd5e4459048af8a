"""assisting units (协办单位) of a problem

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('issue_assists',
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_issue_assists_issue_id_issues')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_issue_assists_unit_id_units')),
    sa.PrimaryKeyConstraint('issue_id', 'unit_id', name=op.f('pk_issue_assists'))
    )
    with op.batch_alter_table('issue_assists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_assists_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('issue_assists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_assists_unit_id'))
    op.drop_table('issue_assists')
