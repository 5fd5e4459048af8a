"""Reference data the busiest pages read on every view, kept by each web worker for a minute
(`TTL`): the names of places and check categories the list filters show and read, and the
policy and working-day calendar that colour the traffic lights.

They change only when the registry, the catalogue, the policy or the holidays are loaded
again; a worker sees such a change within a minute. Steps that write never use this copy:
they read the policy of their own transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rectify.models.calendar import WorkCalendar
from rectify.models.catalogue import CheckItem
from rectify.models.places import County, Township, Village
from rectify.models.policy import Policy, load_policy

TTL = 60.0


class Reference:
    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._kept: dict[tuple, tuple[float, Any]] = {}

    def _cached(self, key: tuple, load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        kept = self._kept.get(key)
        if kept is None or now - kept[0] > self.ttl:
            kept = (now, load())
            self._kept[key] = kept
        return kept[1]

    def counties(self, session: Session) -> dict[str, int]:
        """Name -> id, in the registry's order."""
        return self._cached(("counties",), lambda: dict(session.execute(
            select(County.name, County.id).order_by(County.id)).tuples().all()))

    def townships(self, session: Session, county_id: int) -> dict[str, int]:
        return self._cached(("townships", county_id), lambda: dict(session.execute(
            select(Township.name, Township.id).where(Township.county_id == county_id)
            .order_by(Township.name)).tuples().all()))

    def villages(self, session: Session, township_id: int) -> dict[str, int]:
        return self._cached(("villages", township_id), lambda: dict(session.execute(
            select(Village.name, Village.id).where(Village.township_id == township_id)
            .order_by(Village.name)).tuples().all()))

    def categories(self, session: Session) -> list[str]:
        return self._cached(("categories",), lambda: list(session.scalars(
            select(CheckItem.category).distinct().order_by(CheckItem.category))))

    def policy(self, session: Session) -> Policy:
        return self._cached(("policy",), lambda: load_policy(session))

    def calendar(self, session: Session) -> WorkCalendar:
        return self._cached(("calendar",), lambda: WorkCalendar.load(session))
