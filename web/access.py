"""Who sees what: the one rule for pages, exports and the API.

A unit user sees its own unit's problems only; a county coordinator its county's; everyone
else every problem. A problem out of sight is reported as not found (404), never as
forbidden, so guessing codes tells nothing. Households (names, 建档立卡 numbers) are shown to
the roles that work with them, not to leaders.
"""

from __future__ import annotations

from sqlalchemy import select

from rectify.models.enums import Role
from rectify.models.errors import NotFound
from rectify.models.issues import Issue, IssueAssist
from rectify.models.lookup import closest
from rectify.models.org import User
from rectify.models.queries import IssueFilter

HOUSEHOLD_ROLES = frozenset({Role.UNIT, Role.COORDINATOR, Role.VERIFIER, Role.INSPECTOR, Role.TEAM_LEADER,
                             Role.ADMIN})


def coordinator_county_id(user: User) -> int | None:
    if user.role is Role.COORDINATOR and user.unit is not None:
        return user.unit.county_id
    return None


def scoped(user: User, wanted: IssueFilter) -> IssueFilter:
    """The filter the user asked for, narrowed to what they may see: asking for another unit or
    county than one's own finds nothing (it is never relabelled as one's own)."""
    from dataclasses import replace

    def narrowed(asked: int | None, own: int | None) -> int:
        return own if own is not None and asked in (None, own) else -1

    if user.role is Role.UNIT:
        return replace(wanted, unit_id=narrowed(wanted.unit_id, user.unit_id))
    county = coordinator_county_id(user)
    if county is not None:
        return replace(wanted, county_id=narrowed(wanted.county_id, county))
    return wanted


def can_see(user: User, issue: Issue) -> bool:
    if user.role is Role.UNIT:  # the lead (主办) or an assisting unit (协办)
        return user.unit_id is not None and (issue.unit_id == user.unit_id or issue.assisted_by(user.unit_id))
    county = coordinator_county_id(user)
    return county is None or issue.county_id == county


def visible_issue(session, user: User, code: str) -> Issue:
    """The problem, or NotFound alike for a missing and a hidden code; the "did you mean" hint
    offers only codes this user may open."""
    wanted = code.strip().upper()
    issue = session.scalars(select(Issue).where(Issue.code == wanted)).first()
    if issue is None or not can_see(user, issue):
        query = select(Issue.code).order_by(Issue.id.desc()).limit(5000)
        if user.role is Role.UNIT:
            own = user.unit_id if user.unit_id is not None else -1
            query = query.where((Issue.unit_id == own) | Issue.id.in_(
                select(IssueAssist.issue_id).where(IssueAssist.unit_id == own)))
        elif coordinator_county_id(user) is not None:
            query = query.where(Issue.county_id == coordinator_county_id(user))
        raise NotFound("问题编号", code, suggestions=closest(wanted, session.scalars(query).all()))
    return issue


def sees_households(user: User) -> bool:
    return user.role in HOUSEHOLD_ROLES


def sees_warnings(user: User) -> bool:
    """The 纸面销号 warnings are for those who judge a submission, not for the unit that made it."""
    return user.role is not Role.UNIT


def warnings_for(session, user: User, warnings: list) -> list:
    """The 纸面销号 warnings as this viewer may read them: one that names a problem out of the
    viewer's sight keeps its finding but not the other problem's code."""
    from dataclasses import replace

    shown = []
    for warning in warnings:
        other = session.scalars(select(Issue).where(Issue.code == warning.other)).first() if warning.other else None
        if other is not None and not can_see(user, other):
            warning = replace(warning, message=warning.message.replace(warning.other, "(权限范围外的另一问题)"),
                              other=None)
        shown.append(warning)
    return shown
