"""Working days on the Chinese calendar, and deadlines counted in them.

The chinese-calendar package knows each year's holidays once the State Council has
published them; the operator's holiday table extends or overrides it for years it
does not cover yet. Past both, Monday-Friday is assumed and a warning is raised.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import Date, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from rectify.models.base import Base, enum_column
from rectify.models.enums import DayKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
# When a message on a working day is expected to be read: the offices' morning and afternoon.
OFFICE_HOURS = ((time(9), time(12)), (time(14), time(18)))

_kind_type, _kind_check = enum_column(DayKind, "kind")


class HolidayOverride(Base):
    """The operator's entry for one date: 休 (day off) or 班 (adjusted working day)."""

    __tablename__ = "holiday_overrides"
    __table_args__ = (_kind_check,)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[DayKind] = mapped_column(_kind_type)
    name: Mapped[str | None] = mapped_column(String(40))


class CalendarCoverageWarning(UserWarning):
    """A date lies past both the package's data and the operator's holiday table."""


def _package_years() -> range:
    holidays = chinese_calendar.holidays
    years = {d.year for d in holidays}
    return range(min(years), max(years) + 1)


PACKAGE_YEARS = _package_years()


@dataclass
class WorkCalendar:
    overrides: dict[date, bool] = field(default_factory=dict)
    _warned: set[int] = field(default_factory=set)
    _known: dict[date, bool] = field(default_factory=dict)  # days answered by the package (slow to ask)

    @classmethod
    def load(cls, session: Session) -> "WorkCalendar":
        rows = session.execute(select(HolidayOverride.day, HolidayOverride.kind)).tuples()
        return cls({day: kind == DayKind.WORK for day, kind in rows})

    def covers(self, year: int) -> bool:
        return year in PACKAGE_YEARS or any(d.year == year for d in self.overrides)

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in PACKAGE_YEARS:
            known = self._known.get(day)
            if known is None:
                known = self._known[day] = chinese_calendar.is_workday(day)
            return known
        if not self.covers(day.year) and day.year not in self._warned:
            self._warned.add(day.year)
            warnings.warn(
                f"{day.year} 年的节假日安排尚未录入,按周一至周五工作日计算;"
                f"请用 rectify calendar add 录入国务院公布的安排",
                CalendarCoverageWarning,
                stacklevel=2,
            )
        return day.weekday() < 5

    def add_workdays(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (the day of assignment itself not counted)."""
        if days < 1:
            raise ValueError("days must be >= 1")
        day, counted = start, 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Office hours (OFFICE_HOURS, Beijing time, on working days) from `start` to `end`."""
        total, day = 0.0, local_date(start)
        last = local_date(end)
        while day <= last:
            if self.is_workday(day):
                for opens, closes in OFFICE_HOURS:
                    span_start = max(start, datetime.combine(day, opens, SHANGHAI))
                    span_end = min(end, datetime.combine(day, closes, SHANGHAI))
                    total += max(0.0, (span_end - span_start).total_seconds() / 3600)
            day += timedelta(days=1)
        return total

    def between_fn(self, first: date, last: date):
        """workdays_between for many pairs of days within [first, last], after one pass over them."""
        cumulative: dict[date, int] = {}
        count, day = 0, first
        while day <= last:
            if self.is_workday(day) and day != first:
                count += 1
            cumulative[day] = count
            day += timedelta(days=1)

        def between(start: date, end: date) -> int:
            return cumulative[end] - cumulative[start]

        return between

    def back_workdays(self, day: date, days: int) -> date:
        """The latest date d with workdays_between(d, day) >= days."""
        counted = 0
        while True:
            if self.is_workday(day):
                counted += 1
                if counted == days:
                    return day - timedelta(days=1)
            day -= timedelta(days=1)

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.workdays_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


def local_date(instant: datetime) -> date:
    return instant.astimezone(SHANGHAI).date()


def deadline_end(deadline: date) -> datetime:
    """A deadline ends at 24:00 Asia/Shanghai on its day."""
    return datetime.combine(deadline + timedelta(days=1), time(0), SHANGHAI)


def end_of_day(day: date) -> datetime:
    """The last instant of a day in Asia/Shanghai: what a date alone means as a moment."""
    return deadline_end(day) - timedelta(microseconds=1)


def moment_text(instant: datetime) -> str:
    """How every surface states the moment it counted at: the date alone for the end of a day,
    else the date and the minute (Beijing time)."""
    local = instant.astimezone(SHANGHAI)
    if local == end_of_day(local.date()):
        return local.date().isoformat()
    return local.strftime("%Y-%m-%d %H:%M")
