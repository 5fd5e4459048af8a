"""Reading problems back: the filtered lists the CLI, the web and the API show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from rectify.models.calendar import WorkCalendar
from rectify.models.catalogue import CheckItem
from rectify.models.enums import UNIT_CLOCK_STATUSES, Status, Supervision
from rectify.models.issues import Issue, IssueAssist, IssueEvent
from rectify.models.org import Unit
from rectify.models.overlays import Light, waiting_since_before
from rectify.models.places import County, Household, Township, Village
from rectify.models.policy import Policy


def load_issue_detail(session: Session, issue: Issue) -> Issue:
    """Load what a problem's page shows in three round trips: the problem with its places, item,
    unit and inspection; its trail with the actors; the trail's evidence (lazy loading took a
    dozen on PostgreSQL)."""
    trail = selectinload(Issue.events)
    session.scalars(
        select(Issue).where(Issue.id == issue.id)
        .options(joinedload(Issue.county), joinedload(Issue.township), joinedload(Issue.village),
                 joinedload(Issue.household), joinedload(Issue.check_item), joinedload(Issue.unit),
                 joinedload(Issue.inspection), trail.joinedload(IssueEvent.actor),
                 trail.selectinload(IssueEvent.evidence))
    ).unique().one()
    return issue


def units_of_county(session: Session, county_id: int | None) -> list[Unit]:
    query = select(Unit).order_by(Unit.kind, Unit.name)
    if county_id is not None:
        query = query.where(Unit.county_id == county_id)
    return list(session.scalars(query))


# --- the filtered, sorted, paged list (web list page, its export and the API) ------------------

SORTS = {
    "deadline": (Issue.deadline.is_(None), Issue.deadline, Issue.id),
    "-deadline": (Issue.deadline.is_(None), Issue.deadline.desc(), Issue.id.desc()),
    "code": (Issue.code,),
    "-code": (Issue.code.desc(),),
    "created": (Issue.created_at, Issue.id),
    "-created": (Issue.created_at.desc(), Issue.id.desc()),
    "submitted": (Issue.submitted_at, Issue.id),  # the verifier's queue: longest waiting first
}


@dataclass(frozen=True)
class IssueFilter:
    county_id: int | None = None
    township_id: int | None = None
    village_id: int | None = None
    unit_id: int | None = None
    category: str | None = None
    status: Status | None = None
    light: Light | None = None
    supervision: Supervision | None = None
    overdue: bool = False  # the unit's overdue: 已交办 or 整改中 past the deadline
    verification_late: bool = False  # 待核验 past the 核验时限
    extension_pending: bool = False  # a unit asked for more time and no coordinator has answered
    pause_pending: bool = False  # a unit asked to pause (暂缓整改) and no coordinator has answered
    assisted_by: int | None = None  # problems this unit assists (协办), led by another
    counted: bool = False  # only the problems the figures count (not 已撤销)
    sort: str = "deadline"


def yellow_until(today: date, *, calendar: WorkCalendar, policy: Policy) -> date:
    """The last deadline that still shows yellow today (the traffic light's rule, as a date)."""
    day = today
    while calendar.workdays_between(today, day + timedelta(days=1)) <= policy.due_soon_days:
        day += timedelta(days=1)
    return day


def _filtered(query, f: IssueFilter, *, today: date, calendar: WorkCalendar, policy: Policy):
    for column, value in ((Issue.county_id, f.county_id), (Issue.township_id, f.township_id),
                          (Issue.village_id, f.village_id), (Issue.unit_id, f.unit_id), (Issue.status, f.status),
                          (Issue.supervision, f.supervision)):
        if value is not None:
            query = query.where(column == value)
    if f.category:
        query = query.where(Issue.check_item_id.in_(select(CheckItem.id).where(CheckItem.category == f.category)))
    if f.counted:
        query = query.where(Issue.status != Status.VOID)
    if f.extension_pending:
        query = query.where(Issue.status == Status.RECTIFYING, Issue.extension_requested_until.is_not(None))
    if f.assisted_by is not None:  # an OR with the lead's unit would scan every problem: a read of its own
        query = query.where(Issue.id.in_(select(IssueAssist.issue_id).where(IssueAssist.unit_id == f.assisted_by)))
    if f.pause_pending:
        query = query.where(Issue.status == Status.RECTIFYING, Issue.pause_requested_until.is_not(None))
    if f.verification_late:
        query = query.where(Issue.status == Status.SUBMITTED, Issue.submitted_at < waiting_since_before(
            today, policy.verify_within_days, calendar=calendar))
    running = Issue.status.in_(UNIT_CLOCK_STATUSES) & Issue.deadline.is_not(None)
    if f.overdue or f.light is Light.RED:
        query = query.where(running, Issue.deadline < today)
    if f.light in (Light.YELLOW, Light.GREEN):
        last = yellow_until(today, calendar=calendar, policy=policy)
        query = query.where(running, Issue.deadline >= today)
        query = query.where(Issue.deadline <= last if f.light is Light.YELLOW else Issue.deadline > last)
    return query


def _matching(session: Session, f: IssueFilter, *, today: date, calendar: WorkCalendar, policy: Policy,
              offset: int, limit: int | None):
    """How many problems match, and the ids of the wanted page in order (None, None: all, unpaged;
    the caller counts what it reads).

    The page's ids come first (an index range and a top-N sort), each with the count of all
    matches (a window over the same rows, in the same query); the rows are loaded for those
    ids only: joining places and units before the LIMIT would join every match."""
    def count() -> int:
        return int(session.scalar(_filtered(select(func.count()).select_from(Issue), f, today=today,
                                            calendar=calendar, policy=policy)) or 0)

    if limit is None and offset == 0:
        return None, None
    ids = _filtered(select(Issue.id, func.count().over()), f, today=today, calendar=calendar, policy=policy)
    ids = ids.order_by(*SORTS.get(f.sort, SORTS["deadline"])).offset(offset)
    page = session.execute(ids.limit(limit) if limit is not None else ids).all()
    # Past the last page no row carries the count: ask for it.
    return (int(page[0][1]) if page else count()), [issue_id for issue_id, _ in page]


def search_issues(session: Session, f: IssueFilter, *, today: date, calendar: WorkCalendar, policy: Policy,
                  offset: int = 0, limit: int | None = 50) -> tuple[list[Issue], int]:
    """One page of problems matching `f` as full objects (the API, the queues), and how many match."""
    total, page = _matching(session, f, today=today, calendar=calendar, policy=policy, offset=offset, limit=limit)
    query = select(Issue).options(*(selectinload(r) for r in (
        Issue.county, Issue.township, Issue.village, Issue.household, Issue.check_item, Issue.unit, Issue.inspection,
        Issue.assisting_units, Issue.stages)))  # what issue_to_dict reads: one query each, not one per problem
    if page is None:
        found = list(session.scalars(_filtered(query, f, today=today, calendar=calendar, policy=policy)
                                     .order_by(*SORTS.get(f.sort, SORTS["deadline"]))))
        return found, len(found)
    by_id = {issue.id: issue for issue in session.scalars(query.where(Issue.id.in_(page)))} if page else {}
    return [by_id[i] for i in page], total


PAUSE_COLUMNS = (Issue.pause_requested_until, Issue.paused_on, Issue.paused_until)


class IssueRow(NamedTuple):
    """What a list shows of a problem: plain values, no objects to build."""

    id: int
    code: str
    status: Status
    county: str
    township: str | None
    village: str | None
    household: str | None
    item: str
    category: str
    description: str
    unit: str | None
    deadline: date | None
    supervision: Supervision
    version: int
    extension_requested_until: date | None
    pause_requested_until: date | None
    paused_on: date | None
    paused_until: date | None


def issue_rows(session: Session, f: IssueFilter, *, today: date, calendar: WorkCalendar, policy: Policy,
               offset: int = 0, limit: int | None = 50) -> tuple[list[IssueRow], int]:
    """One page of problems matching `f` as rows (the list pages and the export), and how many match."""
    total, page = _matching(session, f, today=today, calendar=calendar, policy=policy, offset=offset, limit=limit)
    query = (
        select(Issue.id, Issue.code, Issue.status, County.name, Township.name, Village.name, Household.registry_no,
               CheckItem.title, CheckItem.category, Issue.description, Unit.name, Issue.deadline, Issue.supervision,
               Issue.version, Issue.extension_requested_until, *PAUSE_COLUMNS)
        .join(County, County.id == Issue.county_id).join(CheckItem, CheckItem.id == Issue.check_item_id)
        .outerjoin(Township, Township.id == Issue.township_id).outerjoin(Village, Village.id == Issue.village_id)
        .outerjoin(Household, Household.id == Issue.household_id).outerjoin(Unit, Unit.id == Issue.unit_id)
    )
    if page is None:
        query = _filtered(query, f, today=today, calendar=calendar, policy=policy)
        rows = [IssueRow(*r) for r in session.execute(query.order_by(*SORTS.get(f.sort, SORTS["deadline"])))]
        return rows, len(rows)
    # A page's few rows look their names up one by one (correlated subqueries, each an index
    # lookup): joins made PostgreSQL hash whole tables (households, units) for 50 rows.

    def name(column, key):
        return select(column).where(column.table.c.id == key).scalar_subquery()

    query = select(Issue.id, Issue.code, Issue.status, name(County.name, Issue.county_id),
                   name(Township.name, Issue.township_id), name(Village.name, Issue.village_id),
                   name(Household.registry_no, Issue.household_id), name(CheckItem.title, Issue.check_item_id),
                   name(CheckItem.category, Issue.check_item_id), Issue.description, name(Unit.name, Issue.unit_id),
                   Issue.deadline, Issue.supervision, Issue.version, Issue.extension_requested_until,
                   *PAUSE_COLUMNS)
    by_id = {r.id: IssueRow(*r) for r in session.execute(query.where(Issue.id.in_(page)))} if page else {}
    return [by_id[i] for i in page], total
