"""What the leadership dashboard shows, computed once per change of the data.

The figures are models.figures (the same as `rectify report`); they are cached under the
newest event id and the day, so a dashboard under load costs one indexed MAX() per view
until a problem moves."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from rectify.models.calendar import SHANGHAI, WorkCalendar, local_date
from rectify.models.enums import OPEN_STATUSES, Supervision
from rectify.models.figures import FigureRow, figures, ranked, worst_overdue
from rectify.models.issues import Issue, IssueEvent
from rectify.models.places import County, place_of

WEEKS = 12


@dataclass
class Dashboard:
    today: date
    ranking: list[FigureRow]
    total: dict[str, int]  # counts added up over the counties (no rate is re-derived here)
    weekly_closures: list[tuple[date, int]]
    overdue_by_county: list[tuple[str, int]]
    worst: list[dict]
    cards: dict[str, dict[str, int]] = field(default_factory=dict)  # county -> level -> open problems
    card_totals: dict[str, int] = field(default_factory=dict)


_cache: dict[tuple, Dashboard] = {}
_lock = threading.Lock()


def dashboard(session: Session, *, now: datetime, calendar: WorkCalendar, url: str) -> Dashboard:
    today = local_date(now)
    key = (url, today, session.scalar(select(func.max(IssueEvent.id))))
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    built = _build(session, now=now, today=today, calendar=calendar)
    with _lock:
        _cache.clear()  # only the newest state is worth keeping
        _cache[key] = built
    return built


def _build(session: Session, *, now: datetime, today: date, calendar: WorkCalendar) -> Dashboard:
    rows = figures(session, by="county", as_of=now, calendar=calendar)
    ranking = ranked(rows)
    total = {k: sum(getattr(r, k) for r in rows) for k in ("total", "closed", "resolved_on_site", "submitted",
                                                            "overdue")}
    first_week = today - timedelta(days=today.weekday() + 7 * (WEEKS - 1))
    # Closures per week (Monday 00:00 Asia/Shanghai to the next), counted in one pass in SQL.
    mondays = [first_week + timedelta(weeks=i) for i in range(WEEKS)]
    bounds = [datetime.combine(day, time.min, SHANGHAI) for day in mondays]
    bounds.append(datetime.combine(today + timedelta(days=1), time.min, SHANGHAI))
    counts = session.execute(select(*(
        func.coalesce(func.sum(case((and_(Issue.closed_at >= bounds[i], Issue.closed_at < bounds[i + 1]), 1),
                                    else_=0)), 0) for i in range(WEEKS)))
        .where(Issue.closed_at >= bounds[0], Issue.closed_at < bounds[-1])).one()
    weekly = [(monday, int(n)) for monday, n in zip(mondays, counts, strict=True)]
    cards: dict[str, dict[str, int]] = defaultdict(dict)
    for county, level, n in session.execute(
        select(County.name, Issue.supervision, func.count()).join(County, County.id == Issue.county_id)
        .where(Issue.status.in_(OPEN_STATUSES), Issue.supervision != Supervision.NORMAL)
        .group_by(County.name, Issue.supervision)
    ):
        cards[county][Supervision(level).value] = int(n)
    card_totals = {level.value: sum(c.get(level.value, 0) for c in cards.values())
                   for level in Supervision if level is not Supervision.NORMAL}
    worst = [{"code": i.code, "place": place_of(i), "item": i.check_item.title,
              "unit": i.unit.name if i.unit else "", "deadline": i.deadline,
              "late": calendar.workdays_between(i.deadline, today)}
             for i in worst_overdue(session, today=today, limit=10)]
    overdue = sorted(((r.key, r.overdue) for r in rows if r.overdue), key=lambda x: -x[1])
    return Dashboard(today, ranking, total, weekly, overdue, worst, dict(cards), card_totals)

