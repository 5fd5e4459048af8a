"""Make a table hold exactly the given rows for their keys: insert the missing, update the changed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session


@dataclass
class SyncCount:
    added: int = 0
    updated: int = 0

    def __iadd__(self, other: "SyncCount") -> "SyncCount":
        self.added += other.added
        self.updated += other.updated
        return self


def sync_rows(
    session: Session, model: type, key: Sequence[str], rows: Iterable[dict[str, Any]]
) -> tuple[dict[tuple, Any], SyncCount]:
    """Upsert `rows` by `key`; returns every object by key, and what changed."""
    existing = {
        tuple(getattr(obj, k) for k in key): obj for obj in session.scalars(select(model)).all()
    }
    count = SyncCount()
    for row in rows:
        row_key = tuple(row[k] for k in key)
        obj = existing.get(row_key)
        if obj is None:
            obj = model(**row)
            session.add(obj)
            existing[row_key] = obj
            count.added += 1
            continue
        changed = False
        for name, value in row.items():
            if getattr(obj, name) != value:
                setattr(obj, name, value)
                changed = True
        count.updated += changed
    session.flush()
    return existing, count
