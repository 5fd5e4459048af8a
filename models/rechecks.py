"""Follow-ups of finished problems, of two kinds (FOLLOW_UPS):
- 回头看: a re-inspection of closed and on-site-resolved problems: still there (反弹) or fixed;
- 群众满意度回访: a phone call to the household of a closed household-level problem: 满意,
  基本满意 or 不满意 (不满意 reopens the problem and counts as a rebound).

A Recheck is one seeded, county-stratified sample of one kind; each RecheckItem is one sampled
problem with the unit and county it had when sampled (so the rates stay with the unit that
closed it even after a reopening moves it elsewhere) and, once answered (the team's workbook,
or the web form for one problem), its result.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from rectify.models import lifecycle
from rectify.models.base import Base, UTCDateTime
from rectify.models.enums import Status
from rectify.models.errors import InvalidInput, InvalidTransition
from rectify.models.issues import Evidence, Issue
from rectify.models.org import Unit, User
from rectify.models.places import County

RECHECKABLE = (Status.CLOSED, Status.RESOLVED_ON_SITE)
RECHECK, CALLBACK = "recheck", "callback"
STILL, FIXED = "still", "fixed"
SATISFIED, FAIRLY, UNSATISFIED = "satisfied", "fairly", "unsatisfied"
RESULT_LABELS = {STILL: "还在", FIXED: "已整改", SATISFIED: "满意", FAIRLY: "基本满意", UNSATISFIED: "不满意"}
BY_LABEL = {label: key for key, label in RESULT_LABELS.items()}  # what a workbook or a form says -> the answer
# 满意率: the callbacks answered 满意 or 基本满意 (not 不满意) over all the callbacks answered.


@dataclass(frozen=True)
class FollowUp:
    """What one kind of follow-up asks and how its answers read."""

    kind: str
    title: str  # also the name of its workbook's sheet
    result_header: str
    note_header: str
    verdicts: tuple[str, ...]
    reopens: str  # the answer that reopens the problem (a rebound); it must say why
    drawn_from: str  # which problems it draws, in words

    @property
    def labels(self) -> list[str]:
        return [RESULT_LABELS[v] for v in self.verdicts]


FOLLOW_UPS = {
    RECHECK: FollowUp(RECHECK, "回头看", "复查结果", "复查说明", (STILL, FIXED), STILL, "已销号和现场解决的问题"),
    CALLBACK: FollowUp(CALLBACK, "满意度回访", "回访结果", "回访说明", (SATISFIED, FAIRLY, UNSATISFIED), UNSATISFIED,
                       "已销号的户级问题"),
}


class Recheck(Base):
    __tablename__ = "rechecks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=RECHECK, server_default=RECHECK)  # FOLLOW_UPS
    share: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    items: Mapped[list[RecheckItem]] = relationship(back_populates="recheck", order_by="RecheckItem.id")


class RecheckItem(Base):
    __tablename__ = "recheck_items"
    __table_args__ = (UniqueConstraint("recheck_id", "issue_id"),
                      CheckConstraint("result IN ('still', 'fixed', 'satisfied', 'fairly', 'unsatisfied')",
                                      name="result"))

    id: Mapped[int] = mapped_column(primary_key=True)
    recheck_id: Mapped[int] = mapped_column(ForeignKey("rechecks.id"), index=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    result: Mapped[str | None] = mapped_column(String(12))  # one of its kind's verdicts, empty until answered
    note: Mapped[str | None] = mapped_column(Text)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recheck: Mapped[Recheck] = relationship(back_populates="items")
    issue: Mapped[Issue] = relationship()
    checked_by: Mapped[User | None] = relationship()


def draw_recheck(session: Session, *, share: float, seed: int, county_ids: list[int] | None = None,
                 kind: str = RECHECK) -> list[Issue]:
    """Per county, ceil(share × its problems the kind draws from), drawn reproducibly from `seed`:
    回头看 the closed and on-site problems; 回访 the closed household-level ones not called back
    since they were closed."""
    if not 0 < share <= 1:
        raise ValueError(share)
    if kind == CALLBACK:
        called = (select(RecheckItem.id).join(Recheck, Recheck.id == RecheckItem.recheck_id)
                  .where(RecheckItem.issue_id == Issue.id, Recheck.kind == CALLBACK,
                         Recheck.created_at >= Issue.closed_at))
        query = select(Issue).where(Issue.status == Status.CLOSED, Issue.household_id.is_not(None), ~exists(called))
    else:
        query = select(Issue).where(Issue.status.in_(RECHECKABLE))
    query = query.order_by(Issue.code)
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

    @property
    def satisfaction(self) -> float:
        """For callbacks: 满意率, the answers not 不满意 (满意, 基本满意) over those answered."""
        return 1 - self.rate if self.checked else 0.0


def rebound_rates(session: Session, recheck_id: int | None = None, *, kind: str = RECHECK) -> list[ReboundRate]:
    """Per county and unit (the unit that had closed them), the problems answered and those whose
    answer reopened them: found again (回头看), or 不满意 (回访: its `rate` is then the share
    not satisfied; satisfaction_rate() is its complement)."""
    item = RecheckItem
    query = (
        select(County.name, func.coalesce(Unit.name, "—"), func.count(),
               func.sum(case((item.result == FOLLOW_UPS[kind].reopens, 1), else_=0)))
        .select_from(item).join(Recheck, Recheck.id == item.recheck_id)
        .join(County, County.id == item.county_id).outerjoin(Unit, Unit.id == item.unit_id)
        .where(item.result.is_not(None), Recheck.kind == kind)
        .group_by(County.name, Unit.name).order_by(County.name, Unit.name)
    )
    if recheck_id is not None:
        query = query.where(item.recheck_id == recheck_id)
    return [ReboundRate(c, u, int(n), int(s or 0)) for c, u, n, s in session.execute(query)]


def answer(session: Session, item: RecheckItem, verdict: str, note: str | None, *, actor: User, now: datetime,
           policy, calendar, evidence: list[Evidence] | None = None) -> bool:
    """Record one follow-up's answer; the answer that reopens (还在, 不满意) reopens the problem
    through the lifecycle, which counts it as a rebound. An answer already recorded is kept: the
    same answer again changes nothing (False), another is refused. True when recorded."""
    spec = FOLLOW_UPS[item.recheck.kind]
    code = item.issue.code
    if verdict not in spec.verdicts:
        raise InvalidInput(f"问题 {code}:{spec.result_header}应为 {' / '.join(spec.labels)}", field="result")
    if item.result is not None:
        if item.result != verdict:
            raise InvalidTransition(f"问题 {code} 的{spec.result_header}此前已记录为「{RESULT_LABELS[item.result]}」,"
                                    f"不能改为「{RESULT_LABELS[verdict]}」")
        return False
    if verdict == spec.reopens:
        if not (note or "").strip():
            raise InvalidInput(f"问题 {code}:{spec.result_header}为「{RESULT_LABELS[verdict]}」时"
                               f"须写明{spec.note_header}", field="note")
        if item.issue.status not in lifecycle.MOVES[lifecycle.Action.REOPEN].sources:
            raise InvalidTransition(f"问题 {code} 当前状态为「{item.issue.status.label}」,不能按反弹重开")
    item.result, item.note, item.checked_by_id, item.checked_at = verdict, (note or "").strip() or None, actor.id, now
    if verdict == spec.reopens:
        reason = (f"回头看「{item.recheck.name}」复查发现问题仍在:{note}" if spec.kind == RECHECK
                  else f"满意度回访「{item.recheck.name}」群众不满意:{note}")
        lifecycle.reopen(session, item.issue, actor=actor, now=now, reason=reason, evidence=evidence or [],
                         unit=None, deadline=None, policy=policy, calendar=calendar, callback=spec.kind == CALLBACK)
    return True


def pending_callback(session: Session, issue: Issue) -> RecheckItem | None:
    """The problem's callback drawn and not yet answered, if any."""
    return session.scalars(select(RecheckItem).join(Recheck, Recheck.id == RecheckItem.recheck_id).where(
        RecheckItem.issue_id == issue.id, Recheck.kind == CALLBACK, RecheckItem.result.is_(None))
        .order_by(RecheckItem.id).limit(1)).first()


def callback_answers(session: Session, column, *, as_of: datetime, scoped=lambda q: q) -> dict:
    """Per value of `column` (the figures' slice; the county's and the unit's are the item's own,
    as they were when drawn): (answered, satisfied) of the callbacks answered by `as_of`."""
    item = RecheckItem
    query = (select(column, func.count(), func.sum(case((item.result != UNSATISFIED, 1), else_=0)))
             .select_from(item).join(Recheck, and_(Recheck.id == item.recheck_id, Recheck.kind == CALLBACK))
             .join(Issue, Issue.id == item.issue_id)
             .where(item.result.is_not(None), item.checked_at <= as_of))
    return {key: (int(n), int(content or 0)) for key, n, content in session.execute(scoped(query).group_by(column))}
