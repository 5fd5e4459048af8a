"""paused clocks (暂缓整改): the state, the request and pause columns on problems, and the
working days paused in the running totals

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rectify.models import tallies

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("triage", "assigned", "rectifying", "submitted", "closed", "resolved_on_site", "void")
POLICY = {"pause_flag_workdays": 60}


def _statuses(values: tuple[str, ...]) -> None:
    """Autogenerate does not see CHECK constraints: the states are set by hand."""
    allowed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_issues_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_issues_status'), f"status IN ({allowed})")
    with op.batch_alter_table('issue_events', schema=None) as batch_op:
        for column in ('from_status', 'to_status'):
            batch_op.drop_constraint(op.f(f'ck_issue_events_{column}'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_issue_events_{column}'), f"{column} IN ({allowed})")


def upgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pause_requested_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('paused_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('paused_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('paused_workdays', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True))
    _statuses(STATUSES + ("paused",))
    with op.batch_alter_table('issue_tallies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_days', sa.Integer(), server_default='0', nullable=False))
    # SQLite's batch mode copied `issues` without its triggers; the totals gain a sum either way.
    connection = op.get_bind()
    tallies.install(connection)
    tallies.refill(connection)
    settings = sa.table("policy_settings", sa.column("key", sa.String), sa.column("value", sa.JSON))
    present = set(connection.scalars(sa.select(settings.c.key)))
    if "code_prefix" in present:  # a seeded database: write the new rule as data
        connection.execute(settings.insert(), [{"key": k, "value": v} for k, v in POLICY.items() if k not in present])


def downgrade() -> None:
    connection = op.get_bind()
    # A paused problem goes back to 整改中 (the state it paused from).
    op.execute("UPDATE issues SET status = 'rectifying' WHERE status = 'paused'")
    op.execute("UPDATE issue_events SET to_status = 'rectifying' WHERE to_status = 'paused'")
    op.execute("UPDATE issue_events SET from_status = 'rectifying' WHERE from_status = 'paused'")
    _statuses(STATUSES)
    tallies.uninstall(connection)  # PostgreSQL's trigger depends on the columns dropped below
    with op.batch_alter_table('issue_tallies', schema=None) as batch_op:
        batch_op.drop_column('paused_days')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('paused_at')
        batch_op.drop_column('paused_workdays')
        batch_op.drop_column('paused_until')
        batch_op.drop_column('paused_on')
        batch_op.drop_column('pause_requested_until')
    tallies.install(connection, tallies.SUMS_0008)
    tallies.refill(connection, tallies.SUMS_0008)
    settings = sa.table("policy_settings", sa.column("key", sa.String))
    connection.execute(settings.delete().where(settings.c.key.in_(list(POLICY))))
