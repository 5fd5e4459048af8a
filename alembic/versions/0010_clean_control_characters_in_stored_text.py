"""clean control characters from stored text: rows written before every edge refused them
(a NUL made the exports fail)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, its key, the free-text columns people or imports wrote)
COLUMNS = (("issues", "id", ("description", "measures", "on_site_note")), ("issue_events", "id", ("note",)),
           ("findings", "id", ("note",)), ("recheck_items", "id", ("note",)), ("referrals", "id", ("note",)))


def upgrade() -> None:
    from rectify.models.text import CONTROL

    connection = op.get_bind()
    for name, key, columns in COLUMNS:
        table = sa.table(name, sa.column(key, sa.Integer), *(sa.column(c, sa.Text) for c in columns))
        dirty = []
        rows = connection.execute(sa.select(table).execution_options(stream_results=True, yield_per=2000))
        for row in rows.mappings():
            cleaned = {c: CONTROL.sub("", row[c]) for c in columns if row[c] and CONTROL.search(row[c])}
            if cleaned:
                dirty.append({"_key": row[key], **{c: cleaned.get(c, row[c]) for c in columns}})
        if dirty:
            connection.execute(table.update().where(table.c[key] == sa.bindparam("_key"))
                               .values({c: sa.bindparam(c) for c in columns}), dirty)


def downgrade() -> None:
    pass  # what was removed meant nothing to a reader
