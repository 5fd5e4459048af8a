"""Computed overlays on an open problem: working days left and the traffic light."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from rectify.models.calendar import WorkCalendar
from rectify.models.issues import Issue
from rectify.models.policy import Policy


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def label(self) -> str:
        return {"green": "绿", "yellow": "黄", "red": "红"}[self.value]


def days_to(deadline: date, *, today: date, calendar: WorkCalendar) -> int:
    """Working days from today to a deadline; negative when it has passed."""
    if today > deadline:
        return -calendar.workdays_between(deadline, today)
    return calendar.workdays_between(today, deadline)


def workdays_left(issue: Issue, *, today: date, calendar: WorkCalendar) -> int | None:
    """Working days from today to the current deadline; negative when overdue; None if no clock runs."""
    if not issue.status.is_open or issue.deadline is None:
        return None
    return days_to(issue.deadline, today=today, calendar=calendar)


def is_overdue(issue: Issue, *, today: date) -> bool:
    return issue.status.is_open and issue.deadline is not None and today > issue.deadline


def traffic_light(issue: Issue, *, today: date, calendar: WorkCalendar, policy: Policy) -> Light | None:
    if not issue.status.is_open or issue.deadline is None:
        return None
    if is_overdue(issue, today=today):
        return Light.RED
    if calendar.workdays_between(today, issue.deadline) <= policy.due_soon_days:
        return Light.YELLOW
    return Light.GREEN
