"""staged rectification (阶段性整改): a problem's stages, each with its deadline and state

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('issue_stages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.CheckConstraint("state IN ('open', 'submitted', 'verified')", name=op.f('ck_issue_stages_state')),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_issue_stages_issue_id_issues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_stages')),
    sa.UniqueConstraint('issue_id', 'seq', name=op.f('uq_issue_stages_issue_id_seq'))
    )
    with op.batch_alter_table('issue_stages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_stages_issue_id'), ['issue_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('issue_stages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_stages_issue_id'))
    op.drop_table('issue_stages')
