"""回头看: a re-inspection of closed and on-site-resolved problems, and what it found.

A Recheck is one seeded, county-stratified sample; each RecheckItem is one sampled problem
with the unit and county it had when sampled (so rebound rates stay with the unit that
closed it even after a reopening moves it elsewhere) and, once the field team's workbook is
imported, its result: still there (反弹) or fixed.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint, case, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from rectify.models.base import Base, UTCDateTime
from rectify.models.enums import Status
from rectify.models.issues import Issue
from rectify.models.org import Unit, User
from rectify.models.places import County

RECHECKABLE = (Status.CLOSED, Status.RESOLVED_ON_SITE)
STILL, FIXED = "still", "fixed"
RESULT_LABELS = {STILL: "还在", FIXED: "已整改"}


class Recheck(Base):
    __tablename__ = "rechecks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    share: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    items: Mapped[list[RecheckItem]] = relationship(back_populates="recheck", order_by="RecheckItem.id")


class RecheckItem(Base):
    __tablename__ = "recheck_items"
    __table_args__ = (UniqueConstraint("recheck_id", "issue_id"),
                      CheckConstraint("result IN ('still', 'fixed')", name="result"))

    id: Mapped[int] = mapped_column(primary_key=True)
    recheck_id: Mapped[int] = mapped_column(ForeignKey("rechecks.id"), index=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    result: Mapped[str | None] = mapped_column(String(8))  # STILL / FIXED, empty until imported
    note: Mapped[str | None] = mapped_column(Text)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recheck: Mapped[Recheck] = relationship(back_populates="items")
    issue: Mapped[Issue] = relationship()
    checked_by: Mapped[User | None] = relationship()


def draw_recheck(session: Session, *, share: float, seed: int, county_ids: list[int] | None = None) -> list[Issue]:
    """Per county, ceil(share × its closed and on-site problems), drawn reproducibly from `seed`."""
    if not 0 < share <= 1:
        raise ValueError(share)
    query = select(Issue).where(Issue.status.in_(RECHECKABLE)).order_by(Issue.code)
    if county_ids:
        query = query.where(Issue.county_id.in_(county_ids))
    per_county: dict[int, list[Issue]] = defaultdict(list)
    for issue in session.scalars(query):
        per_county[issue.county_id].append(issue)
    drawn: list[Issue] = []
    for county_id in sorted(per_county):
        pool = per_county[county_id]
        rng = random.Random(f"{seed}:{county_id}")
        drawn += sorted(rng.sample(pool, math.ceil(share * len(pool))), key=lambda i: i.code)
    return drawn


@dataclass(frozen=True)
class ReboundRate:
    county: str
    unit: str
    checked: int
    still: int

    @property
    def rate(self) -> float:
        return self.still / self.checked if self.checked else 0.0


def rebound_rates(session: Session, recheck_id: int | None = None) -> list[ReboundRate]:
    """Checked and found-again problems per county and unit (the unit that had closed them)."""
    item = RecheckItem
    query = (
        select(County.name, func.coalesce(Unit.name, "—"), func.count(),
               func.sum(case((item.result == STILL, 1), else_=0)))
        .select_from(item).join(County, County.id == item.county_id).outerjoin(Unit, Unit.id == item.unit_id)
        .where(item.result.is_not(None))
        .group_by(County.name, Unit.name).order_by(County.name, Unit.name)
    )
    if recheck_id is not None:
        query = query.where(item.recheck_id == recheck_id)
    return [ReboundRate(c, u, int(n), int(s or 0)) for c, u, n, s in session.execute(query)]
