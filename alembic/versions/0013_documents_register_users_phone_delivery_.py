"""documents register, users phone, delivery read receipts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:40:02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('issuer', sa.String(length=80), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('notice', 'urge', 'reconcile', 'report', 'bulletin')", name=op.f('ck_documents_kind')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_documents_issued_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('issuer', 'kind', 'year', 'number', name=op.f('uq_documents_issuer_kind_year_number')),
    sa.UniqueConstraint('kind', 'subject', name=op.f('uq_documents_kind_subject'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('read_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('read_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('read_checked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_deliveries_read_state', ['read_state'], unique=False)
        batch_op.create_check_constraint(op.f('ck_deliveries_read_state'),
                                         "read_state IN ('unread', 'read', 'fell_back')")

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=11), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('phone')

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_deliveries_read_state'), type_='check')
        batch_op.drop_index('ix_deliveries_read_state')
        batch_op.drop_column('read_checked_at')
        batch_op.drop_column('read_at')
        batch_op.drop_column('read_state')
        batch_op.drop_column('receipt')

    op.drop_table('documents')
