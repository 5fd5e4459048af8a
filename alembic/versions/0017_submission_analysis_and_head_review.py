"""submissions: 原因分析 / 举一反三 / 建章立制 on problems, the unit head's sign-off
(单位负责人审核: the state, the head flag on users), and the policy rules for both

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rectify.models import tallies

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("triage", "assigned", "rectifying", "paused", "submitted", "closed", "resolved_on_site", "void")
# A seeded database gets the rules as data; the head's sign-off stays off there until the
# operator names the scopes (its units have no heads yet), as the seeds' rules say for new ones.
POLICY = {"analysis_required": {"cause": ["*"], "spread": ["grave"], "rules": ["grave"]}, "head_review": []}


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
        batch_op.add_column(sa.Column('cause', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('spread_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('rules_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reviewing_at', sa.DateTime(timezone=True), nullable=True))
    _statuses(STATUSES + ("reviewing",))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_head', sa.Boolean(), server_default=sa.false(), nullable=False))
    # SQLite's batch mode copied `issues` without its triggers; the unit's clock gains a state.
    connection = op.get_bind()
    tallies.install(connection)
    settings = sa.table("policy_settings", sa.column("key", sa.String), sa.column("value", sa.JSON))
    present = set(connection.scalars(sa.select(settings.c.key)))
    if "code_prefix" in present:
        connection.execute(settings.insert(), [{"key": k, "value": v} for k, v in POLICY.items() if k not in present])


def downgrade() -> None:
    connection = op.get_bind()
    # A submission waiting for the head goes back to 整改中 (the state it was sent from).
    op.execute("UPDATE issues SET status = 'rectifying' WHERE status = 'reviewing'")
    op.execute("UPDATE issue_events SET to_status = 'rectifying' WHERE to_status = 'reviewing'")
    op.execute("UPDATE issue_events SET from_status = 'rectifying' WHERE from_status = 'reviewing'")
    _statuses(STATUSES)
    tallies.uninstall(connection)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('unit_head')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('reviewing_at')
        batch_op.drop_column('rules_note')
        batch_op.drop_column('spread_note')
        batch_op.drop_column('cause')
    tallies.install(connection)
    tallies.refill(connection)
    settings = sa.table("policy_settings", sa.column("key", sa.String))
    connection.execute(settings.delete().where(settings.c.key.in_(list(POLICY))))
