"""What the leadership dashboard shows, computed once per change of the data.

The figures are models.figures (the same as `rectify report`); they are cached under the
newest event id, the moment and the scope, so a dashboard under load costs one indexed MAX()
per view until a problem moves.

Scope: the prefecture's view ranks the counties. A county coordinator's view is its county:
its cards, its townships ranked, its longest overdue; the prefecture's county ranking stands
beside it as context, without links into other counties' problems.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import quote

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from rectify.models.calendar import SHANGHAI, WorkCalendar, local_date, moment_text
from rectify.models.enums import OPEN_STATUSES, Supervision
from rectify.models.estimates import RankBand, rank_bands
from rectify.models.figures import FigureRow, figures, worst_overdue
from rectify.models.issues import Issue, IssueEvent
from rectify.models.places import County, Township, place_of
from rectify.models.policy import Policy

WEEKS = 12


@dataclass
class Dashboard:
    today: date
    moment: str  # the moment counted at, as every surface states it
    county: str | None  # the scope: None for the whole prefecture
    slice_label: str  # what the ranking ranks: 县(市), or 乡(镇) within a county
    slice_param: str  # the list's query parameter for one row of the ranking
    ranking: list[FigureRow]
    total: dict[str, int]  # counts added up over the rows (no rate is re-derived here)
    weekly_closures: list[tuple[date, int]]
    overdue_by_slice: list[tuple[str, int]]
    worst: list[dict]
    cards: dict[str, dict[str, int]] = field(default_factory=dict)  # row -> level -> open problems
    card_totals: dict[str, int] = field(default_factory=dict)
    context: list[FigureRow] = field(default_factory=list)  # the prefecture's counties, beside a county's view
    later_steps: bool = False  # steps were taken after the moment: the lists show the present, the figures that moment
    bands: dict[str, RankBand] = field(default_factory=dict)  # each row's closure interval and possible ranks

    @property
    def within(self) -> str:
        """The list links' scope part (a township is found within its county)."""
        return f"county={quote(self.county)}&" if self.county else ""


_cache: dict[tuple, Dashboard] = {}
_lock = threading.Lock()


def dashboard(session: Session, *, now: datetime, calendar: WorkCalendar, policy: Policy, url: str,
              county: County | None = None) -> Dashboard:
    key = (url, now if now.second or now.microsecond else local_date(now), county.id if county else None,
           session.scalar(select(func.max(IssueEvent.id))))
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    built = _build(session, now=now, calendar=calendar, policy=policy, county=county)
    with _lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = built
    return built


def _build(session: Session, *, now: datetime, calendar: WorkCalendar, policy: Policy,
           county: County | None) -> Dashboard:
    today = local_date(now)
    latest = session.scalar(select(func.max(IssueEvent.at)))
    counties = figures(session, by="county", as_of=now, calendar=calendar, policy=policy)
    rows = counties if county is None else figures(session, by="township", as_of=now, calendar=calendar,
                                                   policy=policy, county=county)
    scope = counties if county is None else [r for r in counties if r.key == county.name]
    total = {k: sum(getattr(r, k) for r in scope) for k in ("total", "closed", "resolved_on_site", "submitted",
                                                             "overdue", "verification_late")}
    in_scope = [Issue.county_id == county.id] if county is not None else []
    first_week = today - timedelta(days=today.weekday() + 7 * (WEEKS - 1))
    # Closures per week (Monday 00:00 Asia/Shanghai to the next), counted in one pass in SQL.
    mondays = [first_week + timedelta(weeks=i) for i in range(WEEKS)]
    bounds = [datetime.combine(day, time.min, SHANGHAI) for day in mondays]
    bounds.append(min(datetime.combine(today + timedelta(days=1), time.min, SHANGHAI), now))
    counts = session.execute(select(*(
        func.coalesce(func.sum(case((and_(Issue.closed_at >= bounds[i], Issue.closed_at < bounds[i + 1]), 1),
                                    else_=0)), 0) for i in range(WEEKS)))
        .where(Issue.closed_at >= bounds[0], Issue.closed_at < bounds[-1], *in_scope)).one()
    weekly = [(monday, int(n)) for monday, n in zip(mondays, counts, strict=True)]
    place, column = (County, Issue.county_id) if county is None else (Township, Issue.township_id)
    cards: dict[str, dict[str, int]] = defaultdict(dict)
    for name, level, n in session.execute(
        select(place.name, Issue.supervision, func.count()).join(place, place.id == column)
        .where(Issue.status.in_(OPEN_STATUSES), Issue.supervision != Supervision.NORMAL, *in_scope)
        .group_by(place.name, Issue.supervision)
    ):
        cards[name][Supervision(level).value] = int(n)
    card_totals = {level.value: sum(c.get(level.value, 0) for c in cards.values())
                   for level in Supervision if level is not Supervision.NORMAL}
    worst = [{"code": i.code, "place": place_of(i), "item": i.check_item.title,
              "unit": i.unit.name if i.unit else "", "deadline": i.deadline,
              "late": calendar.workdays_between(i.deadline, today)}
             for i in worst_overdue(session, today=today, limit=10, county=county)]
    overdue = sorted(((r.key, r.overdue) for r in rows if r.overdue), key=lambda x: -x[1])
    return Dashboard(today=today, moment=moment_text(now), county=county.name if county else None,
                     slice_label="县(市)" if county is None else "乡(镇)",
                     slice_param="county" if county is None else "township",
                     ranking=rows, total=total, weekly_closures=weekly, overdue_by_slice=overdue, worst=worst,
                     cards=dict(cards), card_totals=card_totals, context=counties if county is not None else [],
                     later_steps=latest is not None and latest > now, bands=rank_bands(rows))
