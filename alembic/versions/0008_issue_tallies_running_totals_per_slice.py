"""issue tallies: running totals per slice, kept by triggers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rectify.models import tallies

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'issue_tallies',
        sa.Column('dimension', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in tallies.SUMS_0008],
        sa.PrimaryKeyConstraint(*tallies.KEYS, name='pk_issue_tallies'),
        sqlite_with_rowid=False,
    )
    connection = op.get_bind()
    tallies.install(connection, tallies.SUMS_0008)
    tallies.refill(connection, tallies.SUMS_0008)


def downgrade() -> None:
    tallies.uninstall(op.get_bind())
    op.drop_table('issue_tallies')
