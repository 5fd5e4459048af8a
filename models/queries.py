"""Reading problems back: the filtered list the CLI and the web show."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.enums import OPEN_STATUSES, Status
from models.issues import Issue, IssueEvent
from models.org import Unit


def list_issues(
    session: Session,
    *,
    status: Status | None = None,
    county_id: int | None = None,
    unit_id: int | None = None,
    overdue_on: date | None = None,
    limit: int | None = None,
) -> list[Issue]:
    query = select(Issue).options(
        selectinload(Issue.county),
        selectinload(Issue.inspection),
        selectinload(Issue.township),
        selectinload(Issue.village),
        selectinload(Issue.household),
        selectinload(Issue.check_item),
        selectinload(Issue.unit),
    )
    if status is not None:
        query = query.where(Issue.status == status)
    if county_id is not None:
        query = query.where(Issue.county_id == county_id)
    if unit_id is not None:
        query = query.where(Issue.unit_id == unit_id)
    if overdue_on is not None:
        query = query.where(Issue.status.in_(OPEN_STATUSES), Issue.deadline < overdue_on)
    query = query.order_by(Issue.deadline.is_(None), Issue.deadline, Issue.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def load_issue_detail(session: Session, issue: Issue) -> Issue:
    """Make sure the whole trail (events, actors, evidence) is loaded for display."""
    session.scalars(
        select(IssueEvent)
        .where(IssueEvent.issue_id == issue.id)
        .options(selectinload(IssueEvent.actor), selectinload(IssueEvent.evidence))
    ).all()
    return issue


def units_of_county(session: Session, county_id: int | None) -> list[Unit]:
    query = select(Unit).order_by(Unit.kind, Unit.name)
    if county_id is not None:
        query = query.where(Unit.county_id == county_id)
    return list(session.scalars(query))
