"""群众满意度回访: follow-up batches gain a kind (回头看 or 回访), and their answers the callback's

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _results(values: tuple[str, ...], length: int) -> None:
    allowed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table('recheck_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_recheck_items_result'), type_='check')
        batch_op.alter_column('result', type_=sa.String(length), existing_nullable=True)
        batch_op.create_check_constraint(op.f('ck_recheck_items_result'), f"result IN ({allowed})")


def upgrade() -> None:
    with op.batch_alter_table('rechecks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='recheck', nullable=False))
    _results(("still", "fixed", "satisfied", "fairly", "unsatisfied"), 12)


def downgrade() -> None:
    # The callbacks go with their kind; the reopenings they made stay in the problems' events.
    op.execute("DELETE FROM recheck_items WHERE recheck_id IN (SELECT id FROM rechecks WHERE kind = 'callback')")
    op.execute("DELETE FROM rechecks WHERE kind = 'callback'")
    _results(("still", "fixed"), 8)
    with op.batch_alter_table('rechecks', schema=None) as batch_op:
        batch_op.drop_column('kind')
