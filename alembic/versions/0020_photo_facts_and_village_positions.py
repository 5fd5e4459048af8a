"""photo facts (capture time, position, perceptual hash), village positions, captured rows

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSITION = (('latitude', sa.Float()), ('longitude', sa.Float()))


def upgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True))
        for name, kind in POSITION:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
        batch_op.add_column(sa.Column('phash', sa.String(length=16), nullable=True))
    with op.batch_alter_table('villages', schema=None) as batch_op:
        for name, kind in POSITION:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True))
        for name, kind in POSITION:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        for name in ('longitude', 'latitude', 'captured_at'):
            batch_op.drop_column(name)
    with op.batch_alter_table('villages', schema=None) as batch_op:
        for name in ('longitude', 'latitude'):
            batch_op.drop_column(name)
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        for name in ('phash', 'longitude', 'latitude', 'taken_at'):
            batch_op.drop_column(name)
