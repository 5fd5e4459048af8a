"""Computed overlays on a problem: working days left, the traffic light, and the verifier's clock.

Whose clock it is (docs/reports.md):
- the unit's clock runs while the problem is 已交办 or 整改中, against its deadline; it stops
  when the unit submits, and a returned submission starts it again;
- while the problem waits for verification (待核验) the clock is the verifier's: the policy's
  核验时限 in working days from the submission. A submission is never the unit's overdue.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from rectify.models.calendar import WorkCalendar, deadline_end, local_date
from rectify.models.enums import UNIT_CLOCK_STATUSES, Status
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


def unit_clock_runs(status: Status, deadline: date | None) -> bool:
    return status in UNIT_CLOCK_STATUSES and deadline is not None


def workdays_left(issue, *, today: date, calendar: WorkCalendar) -> int | None:
    """Working days from today to the unit's deadline; negative when overdue; None when the
    unit's clock does not run (not yet handed over, waiting for verification, finished)."""
    if not unit_clock_runs(issue.status, issue.deadline):
        return None
    return days_to(issue.deadline, today=today, calendar=calendar)


def light_of(status: Status, deadline: date | None, *, today: date, days_between, policy: Policy) -> Light | None:
    """The traffic light of the unit's clock (`days_between(a, b)`: working days in (a, b])."""
    if not unit_clock_runs(status, deadline):
        return None
    assert deadline is not None  # the unit's clock runs against a deadline
    if today > deadline:
        return Light.RED
    if days_between(today, deadline) <= policy.due_soon_days:
        return Light.YELLOW
    return Light.GREEN


def traffic_light(issue, *, today: date, calendar: WorkCalendar, policy: Policy) -> Light | None:
    return light_of(issue.status, issue.deadline, today=today, days_between=calendar.workdays_between, policy=policy)


def verify_by(submitted_at: datetime, *, calendar: WorkCalendar, policy: Policy) -> date:
    """The last day of the verifier's 核验时限 for a submission."""
    return calendar.add_workdays(local_date(submitted_at), policy.verify_within_days)


def verification_late_days(issue, *, today: date, calendar: WorkCalendar, policy: Policy) -> int | None:
    """Working days a waiting submission is past the 核验时限 (0 or more); None when no
    submission waits or it is still within the time."""
    if issue.status is not Status.SUBMITTED or issue.submitted_at is None:
        return None
    last = verify_by(issue.submitted_at, calendar=calendar, policy=policy)
    return calendar.workdays_between(last, today) if today > last else None


def waiting_last_day(today: date, days: int, *, calendar: WorkCalendar) -> date:
    """The latest day a submission may have been made and have waited more than `days`
    working days today: its last day, add_workdays(submitted, days), is before today."""
    day = today - timedelta(days=1)
    while calendar.add_workdays(day, days) >= today:
        day -= timedelta(days=1)
    return day


def waiting_since_before(today: date, days: int, *, calendar: WorkCalendar) -> datetime:
    """Submissions made before this instant have waited more than `days` working days today."""
    return deadline_end(waiting_last_day(today, days, calendar=calendar))


def accepted_on_time(submitted_at: datetime | None, original_deadline: date | None) -> bool:
    """A closed problem is on time when its accepted submission came on or before the original
    deadline: the unit's clock stopped when it submitted."""
    return submitted_at is not None and original_deadline is not None and local_date(submitted_at) <= original_deadline


def pause_flagged(issue, *, today: date, calendar: WorkCalendar, policy: Policy) -> bool:
    """Whether the pause a problem asks for (from today) or is in (from the day it began) is
    longer than the policy lets pass without the 督查办's notice."""
    asked = issue.pause_requested_until
    start, until = (today, asked) if asked else (issue.paused_on, issue.paused_until)
    return bool(start and until and calendar.workdays_between(start, until) > policy.pause_flag_workdays)
