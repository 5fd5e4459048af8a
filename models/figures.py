"""The figures leadership reads (domain.md, "The figures leadership reads"), for any slice.

Everything is counted as of a moment T: a problem's state at T is the state its last event at
or before T led to, so a report "as of" a past day shows that day. Three ways give the same
numbers (tests compare them):
- now (nothing happened after T): the running totals per slice (models.tallies), a few
  thousand rows whatever the number of problems;
- now, for the problems recorded in a period: the counters kept on the problems, in one
  GROUP BY over them;
- a moment in the past: a recount from the event log.
Counts are aggregated in SQL. A rate whose denominator is zero is None ("—").
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from rectify.models import tallies
from rectify.models.calendar import WorkCalendar, local_date
from rectify.models.catalogue import CheckItem
from rectify.models.enums import OPEN_STATUSES, UNIT_CLOCK_STATUSES, Role, Severity, Status
from rectify.models.errors import InvalidInput
from rectify.models.inspections import Inspection
from rectify.models.issues import Issue, IssueEvent, IssueStage
from rectify.models.org import Unit, User
from rectify.models.overlays import accepted_on_time, waiting_last_day, waiting_since_before
from rectify.models.places import County, Township, Village
from rectify.models.policy import Policy
from rectify.models.rechecks import RecheckItem, callback_answers
from rectify.models.tallies import NO_DEADLINE, IssueTally

DIMENSIONS = ("county", "township", "village", "unit", "category", "inspection", "severity", "leader")
HANDED_OVER = (Status.ASSIGNED, Status.RECTIFYING, Status.PAUSED, Status.REVIEWING, Status.SUBMITTED, Status.CLOSED)
OPEN = tuple(sorted(OPEN_STATUSES))
UNIT_CLOCK = tuple(sorted(UNIT_CLOCK_STATUSES))  # overdue is the unit's: its clock runs and the deadline passed


@dataclass
class FigureRow:
    """One slice's figures (docs/reports.md defines each); `rank` 1 is the best (ranked())."""

    key: str
    total: int
    resolved_on_site: int
    assigned: int
    submitted: int
    closed: int
    closure_rate: float | None
    closure_rate_excl_on_site: float | None
    rectified_rate: float | None
    on_time_rate: float | None
    overdue: int
    verification_late: int
    sign_on_time_rate: float | None
    extension_rate: float | None
    return_rate: float | None
    rebound_rate: float | None
    median_days_to_close: float | None
    paused: int = 0  # 暂缓整改 now: the unit's clock is stopped by an approved pause
    paused_days: int = 0  # working days of the pauses that have ended (each moved a deadline)
    callbacks: int = 0  # 群众满意度回访 answered (by the unit or county that had closed the problem)
    satisfaction_rate: float | None = None  # 满意率: 满意 and 基本满意 over the callbacks answered
    stages_verified: int = 0  # 阶段性整改: stages verified (the last stage with its problem's closure)
    stage_on_time_rate: float | None = None  # of those, reported by their own deadline
    rank: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def rate(part: int, whole: int) -> float | None:
    return None if not whole else part / whole


@dataclass(frozen=True)
class _Slice:
    """What a report groups by: a column of the problems where one will do (no join), and how
    its values read (names loaded once, after the aggregation)."""

    column: Any
    join: Callable
    names: Callable[[Session], dict] | None = None


_BY_ID: dict[str, type[County | Township | Village | Unit | Inspection]] = {
    "county": County, "township": Township, "village": Village, "unit": Unit, "inspection": Inspection}


def _slice(by: str) -> _Slice:
    if by in _BY_ID:
        model = _BY_ID[by]
        return _Slice(getattr(Issue, f"{by}_id"), lambda q: q,
                      lambda session: dict(session.execute(select(model.id, model.name)).tuples().all()))
    if by == "severity":
        return _Slice(Issue.severity, lambda q: q)
    if by == "category":
        return _Slice(CheckItem.category, lambda q: q.join(CheckItem, Issue.check_item_id == CheckItem.id))
    if by == "leader":
        leader = aliased(User)
        return _Slice(leader.name, lambda q: q.outerjoin(
            leader, and_(leader.linked_county_id == Issue.county_id, leader.role == Role.LEADER)))
    raise InvalidInput(f"不能按「{by}」统计;可选:" + "、".join(DIMENSIONS))


def figures(session: Session, *, by: str, as_of: datetime, calendar: WorkCalendar, policy: Policy,
            county: County | None = None, since: datetime | None = None) -> list[FigureRow]:
    """One row per slice value; problems recorded before `since` (when given) are left out.

    When nothing has happened after `as_of`, the state at `as_of` is the problems' present
    state: the running totals answer, or (with `since`) the counters kept on the problems.
    Otherwise (a moment in the past) everything is recounted from the event log.
    """
    latest = session.scalar(select(func.max(IssueEvent.at)))
    present = (latest is None or latest <= as_of) and not tallies.unmeasured(session.connection())
    if present and since is None:
        rows = tallied_figures(session, by=by, today=local_date(as_of), county=county)
    elif present:
        rows = present_figures(session, by=by, today=local_date(as_of), county=county, since=since)
    else:
        rows = figures_from_events(session, by=by, as_of=as_of, calendar=calendar, county=county, since=since)
    if present and since is None:
        late = tallied_late(session, by=by, today=local_date(as_of), calendar=calendar, policy=policy, county=county)
    else:
        late = verification_late(session, by=by, as_of=as_of, calendar=calendar, policy=policy, county=county,
                                 since=since, present=present)
    answers = satisfaction(session, by=by, as_of=as_of, county=county, since=since)
    stages = stage_figures(session, by=by, as_of=as_of, county=county, since=since)
    for row in rows:
        row.verification_late = late.get(row.key, 0)
        row.callbacks, content = answers.get(row.key, (0, 0))
        row.satisfaction_rate = rate(content, row.callbacks)
        row.stages_verified, stages_on_time = stages.get(row.key, (0, 0))
        row.stage_on_time_rate = rate(stages_on_time, row.stages_verified)
    return ranked(rows)


def stage_figures(session: Session, *, by: str, as_of: datetime, county: County | None = None,
                  since: datetime | None = None) -> dict[str, tuple[int, int]]:
    """Per slice name, the stages (阶段性整改) verified by `as_of` and those whose accepted report
    came by the stage's own deadline. A verified stage stays verified, so one read serves the
    present and the past."""
    grouping = _slice(by)
    stage = IssueStage
    query = (select(grouping.column, func.count(), _count(stage.on_time.is_(True))).select_from(stage)
             .join(Issue, Issue.id == stage.issue_id)
             .where(stage.state == "verified", stage.verified_at <= as_of, Issue.status != Status.VOID))
    counted = session.execute(_scoped(grouping.join(query), county, since).group_by(grouping.column)).all()
    names = grouping.names(session) if grouping.names and counted else None
    return {_name(key, names): (int(n), int(on_time or 0)) for key, n, on_time in counted}


def satisfaction(session: Session, *, by: str, as_of: datetime, county: County | None = None,
                 since: datetime | None = None) -> dict[str, tuple[int, int]]:
    """Per slice name, the callbacks answered by `as_of` and those 满意 or 基本满意. By county and
    by unit, the county and unit the problem had when it was drawn (as the rebound rates)."""
    grouping = _slice(by)
    column = {"county": RecheckItem.county_id, "unit": RecheckItem.unit_id}.get(by, grouping.column)
    counted = callback_answers(session, column, as_of=as_of,
                               scoped=lambda q: _scoped(grouping.join(q), county, since))
    names = grouping.names(session) if grouping.names and counted else None
    return {_name(key, names): answered for key, answered in counted.items()}


def verification_late(session: Session, *, by: str, as_of: datetime, calendar: WorkCalendar, policy: Policy,
                      county: County | None = None, since: datetime | None = None,
                      present: bool = True) -> dict[str, int]:
    """核验超时 per slice name: submissions waiting at `as_of` longer than the policy's 核验时限,
    read from the problems (`present`) or recounted from the event log."""
    grouping = _slice(by)
    cutoff = waiting_since_before(local_date(as_of), policy.verify_within_days, calendar=calendar)
    if present:
        query = select(grouping.column, func.count()).select_from(Issue).where(
            Issue.status == Status.SUBMITTED, Issue.submitted_at < cutoff)
    else:
        last_seq = (select(IssueEvent.issue_id, func.max(IssueEvent.seq).label("seq"))
                    .where(IssueEvent.at <= as_of).group_by(IssueEvent.issue_id).subquery())
        submitted = _last_submission(as_of)
        last = aliased(IssueEvent)
        query = (select(grouping.column, func.count()).select_from(Issue)
                 .join(last_seq, last_seq.c.issue_id == Issue.id)
                 .join(last, and_(last.issue_id == Issue.id, last.seq == last_seq.c.seq))
                 .join(submitted, submitted.c.issue_id == Issue.id)
                 .where(last.to_status == Status.SUBMITTED, submitted.c.at < cutoff))
    counted = session.execute(_scoped(grouping.join(query), county, since).group_by(grouping.column)).all()
    names = grouping.names(session) if grouping.names else None
    return {_name(key, names): int(n) for key, n in counted}


def tallied_late(session: Session, *, by: str, today, calendar: WorkCalendar, policy: Policy,
                 county: County | None = None) -> dict[str, int]:
    """核验超时 now, from the running totals' rows of kind "waiting" (one range read): the same
    numbers as verification_late()."""
    t = IssueTally
    last_day = waiting_last_day(today, policy.verify_within_days, calendar=calendar)
    names = _tally_names(session, by)
    scope = [t.dimension == {"category": "item", "leader": "county"}.get(by, by), t.kind == "waiting",
             t.deadline <= last_day, *([t.county_id == county.id] if county is not None else [])]
    late: dict[str, int] = defaultdict(int)
    for county_id, key, n in session.execute(select(t.county_id, t.key, func.sum(t.n)).where(*scope)
                                             .group_by(t.county_id, t.key)):
        for name in names(county_id, key):
            late[_name(name, None)] += int(n)
    return dict(late)


def _last_submission(as_of: datetime):
    """Per problem, when its last submission at or before `as_of` was made."""
    return (select(IssueEvent.issue_id, func.max(IssueEvent.at).label("at"))
            .where(IssueEvent.at <= as_of, IssueEvent.action == "submit").group_by(IssueEvent.issue_id).subquery())


def _name(key, names: dict | None) -> str:
    if names is not None:
        return str(names.get(key, "(未指定)"))
    return str(key.label if hasattr(key, "label") else (key if key is not None else "(未指定)"))


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def present_figures(session: Session, *, by: str, today, county: County | None = None,
                    since: datetime | None = None) -> list[FigureRow]:
    """The figures of the present state: one aggregate query, and one for the medians."""
    grouping = _slice(by)
    key = grouping.column
    status = Issue.status
    counted = (select(key.label("key"),
                      func.count().label("total"),
                      _count(status == Status.RESOLVED_ON_SITE).label("resolved_on_site"),
                      _count(status.in_(HANDED_OVER)).label("assigned"),
                      _count(status == Status.SUBMITTED).label("submitted"),
                      _count(status == Status.CLOSED).label("closed"),
                      _count(and_(status == Status.CLOSED, Issue.closed_on_time.is_(True))).label("on_time"),
                      _count(and_(status.in_(UNIT_CLOCK), Issue.deadline < today)).label("overdue"),
                      func.sum(Issue.sign_count).label("signs"),
                      func.sum(Issue.sign_count - Issue.late_sign_count).label("signed_on_time"),
                      _count(Issue.extension_count > 0).label("extended"),
                      func.sum(Issue.submit_count).label("submits"),
                      func.sum(Issue.return_count).label("returns"),
                      _count(Issue.reopen_count > 0).label("reopened"),
                      _count(or_(Issue.closed_at.is_not(None), Issue.resolved_on_site_at.is_not(None)))
                      .label("finished"),
                      _count(status == Status.PAUSED).label("paused"),
                      func.sum(Issue.paused_workdays).label("paused_days"))
               .select_from(Issue))
    counted = _scoped(grouping.join(counted).where(status != Status.VOID), county, since).group_by(key)
    # Days to close are small whole numbers: a histogram per slice gives the exact median
    # without sorting the closed problems.
    histogram = _scoped(grouping.join(
        select(key.label("key"), Issue.days_to_close, func.count()).select_from(Issue))
        .where(status == Status.CLOSED), county, since).group_by(key, Issue.days_to_close)
    counts: dict = defaultdict(list)
    for slice_key, days, n in session.execute(histogram):
        counts[slice_key].append((days, n))
    medians = {k: _median_of_histogram(v) for k, v in counts.items()}
    return _rows(session.execute(counted).all(), medians, names=grouping.names(session) if grouping.names else None)


def tallied_figures(session: Session, *, by: str, today, county: County | None = None) -> list[FigureRow]:
    """The figures of the present state from the running totals (models.tallies): the same
    numbers as present_figures(), without reading the problems. Three range reads of the
    totals (the state counters, the overdue deadlines, the days to close), merged per slice."""
    if by not in DIMENSIONS:
        _slice(by)  # says what the choices are
    t = IssueTally
    names = _tally_names(session, by)
    in_county = [t.county_id == county.id] if county is not None else []
    scope = [t.dimension == {"category": "item", "leader": "county"}.get(by, by), *in_county]

    def total(condition=None, column=t.n):
        return func.sum(column if condition is None else case((condition, column), else_=0))

    counters = (select(
        t.county_id, t.key, total().label("total"),
        total(t.status == Status.RESOLVED_ON_SITE.value).label("resolved_on_site"),
        total(t.status.in_([s.value for s in HANDED_OVER])).label("assigned"),
        total(t.status == Status.SUBMITTED.value).label("submitted"),
        total(t.status == Status.CLOSED.value).label("closed"),
        total(column=t.on_time).label("on_time"), total(column=t.signs).label("signs"),
        (total(column=t.signs) - total(column=t.late_signs)).label("signed_on_time"),
        total(column=t.extended).label("extended"), total(column=t.submits).label("submits"),
        total(column=t.returns).label("returns"), total(column=t.reopened).label("reopened"),
        total(column=t.finished).label("finished"), total(column=t.dated).label("dated"),
        total(t.status == Status.PAUSED.value).label("paused"), total(column=t.paused_days).label("paused_days"))
        .where(*scope, t.kind == "state", t.deadline == NO_DEADLINE).group_by(t.county_id, t.key))
    days = select(t.county_id, t.key, t.days, t.n).where(*scope, t.kind == "days", t.deadline == NO_DEADLINE)
    # Overdue: count the open problems whose deadline has passed, or those whose deadline has
    # not (and take them from all the open ones), whichever side is smaller across counties.
    late, dated = session.execute(select(func.coalesce(total(t.deadline < today), 0), func.coalesce(total(), 0))
                                  .where(t.dimension == "county", t.kind == "deadline", *in_county)).one()
    from_late = late <= dated - late
    overdue = (select(t.county_id, t.key, func.sum(t.n))
               .where(*scope, t.kind == "deadline", t.deadline < today if from_late else t.deadline >= today)
               .group_by(t.county_id, t.key))

    connection = session.connection()  # plain rows: the days can be many thousands
    sums: dict = defaultdict(lambda: dict.fromkeys(_COUNTS + ("on_time",), 0))
    for row in connection.execute(counters).mappings():
        for name in names(row["county_id"], row["key"]):
            for k in _COUNTS + ("on_time",):
                if k != "overdue":
                    sums[name][k] += int(row[k] or 0)
            if not from_late:
                sums[name]["overdue"] += int(row["dated"] or 0)
    for county_id, key, n in connection.execute(overdue):
        for name in names(county_id, key):
            sums[name]["overdue"] += int(n) if from_late else -int(n)
    histograms: dict = defaultdict(list)
    rows = connection.execute(days.order_by(t.county_id, t.key)).all()
    for (county_id, key), group in groupby(rows, key=itemgetter(0, 1)):
        pairs = [(days_to_close, n) for _, _, days_to_close, n in group]
        for name in names(county_id, key):
            histograms[name].extend(pairs)
    medians = {name: _median_of_histogram(pairs) for name, pairs in histograms.items()}
    counted = [SimpleNamespace(key=name, **figures) for name, figures in sums.items() if figures["total"]]
    return _rows(counted, medians)


def _tally_names(session: Session, by: str) -> Callable[[int, str], tuple]:
    """How a total's (county, key) reads as the slice's name(s); None where there is none."""
    if by == "leader":
        leaders: dict = defaultdict(list)
        for county_id, name in session.execute(select(User.linked_county_id, User.name).where(
                User.role == Role.LEADER, User.linked_county_id.is_not(None))):
            leaders[county_id].append(name)
        return lambda county_id, key: tuple(leaders.get(county_id, [None]))
    if by == "category":
        lookup = {str(i): c for i, c in session.execute(select(CheckItem.id, CheckItem.category))}
    elif by == "severity":
        lookup = {s.value: s.label for s in Severity}
    else:
        names = _slice(by).names
        assert names is not None  # every slice but category and severity has a table of names
        lookup = {str(k): v for k, v in names(session).items()}
    return lambda county_id, key: (lookup.get(key),)


def _median_of_histogram(pairs: list[tuple[int, int]]) -> float:
    pairs = sorted(pairs)
    total = sum(n for _, n in pairs)
    wanted = [(total - 1) // 2, total // 2]  # the middle position(s), counted from 0
    values, seen = [], 0
    for days, n in pairs:
        while wanted and wanted[0] < seen + n:
            values.append(days)
            wanted.pop(0)
        seen += n
    return sum(values) / len(values)


def _scoped(query, county: County | None, since: datetime | None):
    if county is not None:
        query = query.where(Issue.county_id == county.id)
    if since is not None:
        query = query.where(Issue.created_at >= since)
    return query


def figures_from_events(session: Session, *, by: str, as_of: datetime, calendar: WorkCalendar,
                        county: County | None = None, since: datetime | None = None) -> list[FigureRow]:
    """The figures of the state at `as_of`, recounted from the event log."""
    grouping = _slice(by)
    key = grouping.column
    last_seq = (select(IssueEvent.issue_id, func.max(IssueEvent.seq).label("seq"))
                .where(IssueEvent.at <= as_of).group_by(IssueEvent.issue_id).subquery())
    last = aliased(IssueEvent)
    action = IssueEvent.action

    steps = (
        select(
            IssueEvent.issue_id,
            _count(action == "sign").label("signs"),
            _count(and_(action == "sign", IssueEvent.payload["late"].as_boolean().is_(False))).label("signed_on_time"),
            _count(action == "approve_extension").label("extensions"),
            _count(action == "submit").label("submits"),
            _count(action == "return").label("returns"),
            _count(action == "reopen").label("reopens"),
            _count(IssueEvent.to_status.in_([Status.CLOSED, Status.RESOLVED_ON_SITE])).label("finishes"),
            func.sum(case((action == "resume", IssueEvent.payload["workdays"].as_integer()), else_=0))
            .label("paused_days"),
        )
        .where(IssueEvent.at <= as_of)
        .group_by(IssueEvent.issue_id)
        .subquery()
    )
    status = last.to_status
    today = local_date(as_of)
    base = (select(key.label("key"),
                   func.count().label("total"),
                   _count(status == Status.RESOLVED_ON_SITE).label("resolved_on_site"),
                   _count(status.in_(HANDED_OVER)).label("assigned"),
                   _count(status == Status.SUBMITTED).label("submitted"),
                   _count(status == Status.CLOSED).label("closed"),
                   _count(and_(status.in_(UNIT_CLOCK), Issue.deadline < today)).label("overdue"),
                   func.sum(steps.c.signs).label("signs"),
                   func.sum(steps.c.signed_on_time).label("signed_on_time"),
                   _count(steps.c.extensions > 0).label("extended"),
                   func.sum(steps.c.submits).label("submits"),
                   func.sum(steps.c.returns).label("returns"),
                   _count(steps.c.reopens > 0).label("reopened"),
                   _count(steps.c.finishes > 0).label("finished"),
                   _count(status == Status.PAUSED).label("paused"),
                   func.sum(steps.c.paused_days).label("paused_days"))
            .select_from(Issue)
            .join(last_seq, last_seq.c.issue_id == Issue.id)
            .join(last, and_(last.issue_id == Issue.id, last.seq == last_seq.c.seq))
            .join(steps, steps.c.issue_id == Issue.id))
    counted = session.execute(_scoped(grouping.join(base).where(status != Status.VOID), county, since)
                              .group_by(key)).all()

    # Closed problems, for the on-time share (the accepted submission against the original
    # deadline) and the median working days to close.
    accepted = _last_submission(as_of)
    closed = (select(key.label("key"), last.at, accepted.c.at.label("submitted_at"), Issue.original_deadline,
                     Issue.assigned_at, Issue.created_at)
              .select_from(Issue)
              .join(last_seq, last_seq.c.issue_id == Issue.id)
              .join(last, and_(last.issue_id == Issue.id, last.seq == last_seq.c.seq))
              .outerjoin(accepted, accepted.c.issue_id == Issue.id))
    closed = _scoped(grouping.join(closed).where(status == Status.CLOSED), county, since)
    on_time: dict = defaultdict(int)
    durations: dict = defaultdict(list)
    for row in session.execute(closed):
        closed_on = local_date(row.at)
        if accepted_on_time(row.submitted_at, row.original_deadline):
            on_time[row.key] += 1
        durations[row.key].append(calendar.workdays_between(local_date(row.assigned_at or row.created_at), closed_on))
    medians = {k: statistics.median(v) for k, v in durations.items()}
    return _rows(counted, medians, on_time, names=grouping.names(session) if grouping.names else None)


_COUNTS = ("total", "resolved_on_site", "assigned", "submitted", "closed", "overdue", "signs", "signed_on_time",
           "extended", "submits", "returns", "reopened", "finished", "paused", "paused_days")


def _rows(counted, medians: dict, on_time: dict | None = None, *, names: dict | None = None) -> list[FigureRow]:
    rows = []
    for r in counted:
        # PostgreSQL sums to NUMERIC: every count becomes a plain int here.
        n = {k: int(getattr(r, k) or 0) for k in _COUNTS}
        closed_on_time = on_time.get(r.key, 0) if on_time is not None else int(r.on_time or 0)
        name = _name(r.key, names)
        total, on_site, closed_count = n["total"], n["resolved_on_site"], n["closed"]
        median = medians.get(r.key)
        rows.append(FigureRow(
            key=name, total=total, resolved_on_site=on_site, assigned=n["assigned"], submitted=n["submitted"],
            closed=closed_count,
            closure_rate=rate(closed_count + on_site, total),
            closure_rate_excl_on_site=rate(closed_count, total - on_site),
            rectified_rate=rate(n["submitted"] + closed_count + on_site, total),
            on_time_rate=rate(closed_on_time, closed_count),
            overdue=n["overdue"], verification_late=0,
            sign_on_time_rate=rate(n["signed_on_time"], n["signs"]),
            extension_rate=rate(n["extended"], n["assigned"]),
            return_rate=rate(n["returns"], n["submits"]),
            rebound_rate=rate(n["reopened"], n["finished"]),
            median_days_to_close=None if median is None else float(median),
            paused=n["paused"], paused_days=n["paused_days"],
        ))
    return ranked(rows)


def ranked(rows: list[FigureRow]) -> list[FigureRow]:
    """The ranking (通报) order, the same on every surface, each row numbered: rank 1 is the
    best, the highest closure rate, then the highest on-time rate, then the fewest overdue; no
    figure ranks last."""
    def best_first(row: FigureRow):
        return (row.closure_rate is None, -(row.closure_rate or 0), -(row.on_time_rate or 0), row.overdue, row.key)

    ordered = sorted(rows, key=best_first)
    for number, row in enumerate(ordered, start=1):
        row.rank = number
    return ordered


def worst_overdue(session: Session, *, today, limit: int = 10, county: County | None = None) -> list[Issue]:
    """The problems longest past their deadline while the unit's clock runs (worst first)."""
    from sqlalchemy.orm import selectinload

    return list(session.scalars(
        select(Issue).options(selectinload(Issue.county), selectinload(Issue.township), selectinload(Issue.village),
                             selectinload(Issue.unit), selectinload(Issue.check_item))
        .where(Issue.status.in_(UNIT_CLOCK), Issue.deadline < today,
               *([Issue.county_id == county.id] if county is not None else []))
        .order_by(Issue.deadline, Issue.id).limit(limit)))


def carded_units(session: Session, *, limit: int = 10) -> list[tuple[str, int, int, int]]:
    """Units by their open problems under 黄牌 / 红牌 / 挂牌督办: (unit, yellow, red, listed), most first."""
    from rectify.models.enums import Supervision

    def _count(level: Supervision):
        return func.sum(case((Issue.supervision == level, 1), else_=0))

    rows = session.execute(
        select(Unit.name, _count(Supervision.YELLOW), _count(Supervision.RED), _count(Supervision.LISTED))
        .join(Unit, Issue.unit_id == Unit.id)
        .where(Issue.status.in_(OPEN), Issue.supervision != Supervision.NORMAL)
        .group_by(Unit.name)).all()
    ranked = sorted(((name, int(y or 0), int(r or 0), int(listed or 0)) for name, y, r, listed in rows),
                    key=lambda u: (-(u[3] * 100 + u[2] * 10 + u[1]), u[0]))
    return ranked[:limit]
