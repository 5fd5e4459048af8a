"""the unit's clock stops at submission: overdue counts only 已交办 and 整改中, on time is judged
by the accepted submission, and the 核验时限 policy

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rectify.models import tallies

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = {"verify_within_days": 5, "verify_escalate_days": 10}
KINDS = ("assignment", "sign_reminder", "due_soon", "due_tomorrow", "overdue", "yellow", "red", "listed", "returned",
         "closed", "extension_decided", "bulletin", "test")
NEW_KINDS = ("reopened", "verify_late", "verify_escalated")


def _kinds(kinds: tuple[str, ...]) -> None:
    """Autogenerate does not see CHECK constraints: the message kinds are set by hand."""
    values = ", ".join(f"'{k}'" for k in kinds)
    for table in ("deliveries", "reminder_cursors"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_kind"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_kind"), f"kind IN ({values})")


def upgrade() -> None:
    from rectify.models.overlays import accepted_on_time

    _kinds(KINDS + NEW_KINDS)
    connection = op.get_bind()
    issues = sa.table("issues", sa.column("id", sa.Integer), sa.column("status", sa.String),
                      sa.column("original_deadline", sa.Date), sa.column("closed_on_time", sa.Boolean))
    events = sa.table("issue_events", sa.column("issue_id", sa.Integer), sa.column("action", sa.String),
                      sa.column("at", sa.DateTime(timezone=True)))
    # On time was judged by the day of closure; now by the accepted (last) submission.
    submitted = (sa.select(events.c.issue_id, sa.func.max(events.c.at).label("at"))
                 .where(events.c.action == "submit").group_by(events.c.issue_id).subquery())
    rows = connection.execute(
        sa.select(issues.c.id, issues.c.original_deadline, submitted.c.at)
        .outerjoin(submitted, submitted.c.issue_id == issues.c.id).where(issues.c.status == "closed")).all()
    for issue_id, original, at in rows:
        on_time = accepted_on_time(_utc(at), original)
        connection.execute(issues.update().where(issues.c.id == issue_id).values(closed_on_time=on_time))
    # The overdue totals count only the problems whose unit's clock runs.
    tallies.install(connection, tallies.SUMS_0008)
    tallies.refill(connection, tallies.SUMS_0008)
    settings = sa.table("policy_settings", sa.column("key", sa.String), sa.column("value", sa.JSON))
    present = set(connection.scalars(sa.select(settings.c.key)))
    if "code_prefix" in present:  # a seeded database: write the new rules as data
        connection.execute(settings.insert(), [{"key": k, "value": v} for k, v in POLICY.items() if k not in present])


def _utc(at):
    """The stored UTC time (SQLite hands it back without its zone)."""
    from datetime import UTC

    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def downgrade() -> None:
    op.execute("DELETE FROM reminder_cursors WHERE kind IN ('reopened', 'verify_late', 'verify_escalated')")
    op.execute("DELETE FROM deliveries WHERE kind IN ('reopened', 'verify_late', 'verify_escalated')")
    _kinds(KINDS)
    connection = op.get_bind()
    settings = sa.table("policy_settings", sa.column("key", sa.String))
    connection.execute(settings.delete().where(settings.c.key.in_(list(POLICY))))
