"""findings: an index the estimates read checks and problems from, per county and village

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 04:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index('ix_findings_county_village_result',
                              ['county_id', 'village_id', 'result', 'issue_id', 'imported_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_county_village_result')
