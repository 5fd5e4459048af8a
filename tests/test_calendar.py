"""Working days on the real 2016 calendar, and the operator's table past the package's data."""

from __future__ import annotations

import warnings
from datetime import date, datetime

import pytest

from rectify.models.calendar import SHANGHAI, CalendarCoverageWarning, HolidayOverride, WorkCalendar, deadline_end
from rectify.models.enums import DayKind, Severity
from rectify.models.errors import ImportRejected
from rectify.models.responsibility import default_deadline
from rectify.seeds.loader import read_holidays


def test_national_day_2016_is_off_and_the_adjusted_weekend_is_worked():
    cal = WorkCalendar()
    for day in range(1, 8):
        assert not cal.is_workday(date(2016, 10, day)), f"2016-10-{day:02d} is a holiday"
    assert cal.is_workday(date(2016, 10, 8))  # Saturday, worked
    assert cal.is_workday(date(2016, 10, 9))  # Sunday, worked
    assert cal.is_workday(date(2016, 9, 30))


def test_grave_problem_assigned_before_national_day_is_due_on_the_third_working_day():
    cal = WorkCalendar()
    # Fri 30 Sep + 3 working days: Sat 8 Oct, Sun 9 Oct, Mon 10 Oct.
    assert cal.add_workdays(date(2016, 9, 30), 3) == date(2016, 10, 10)
    assert cal.workdays_between(date(2016, 9, 30), date(2016, 10, 10)) == 3


def test_default_deadlines_follow_the_policy(policy):
    cal = WorkCalendar()
    assigned = datetime(2016, 9, 28, 15, 0, tzinfo=SHANGHAI)
    assert default_deadline(cal, policy, Severity.GRAVE, assigned) == date(2016, 10, 8)
    assert default_deadline(cal, policy, Severity.SERIOUS, assigned) == date(2016, 10, 12)
    # 15 working days: 29, 30 Sep (2), 8, 9 Oct (4), 10..14 Oct (9), 17..21 Oct (14), 24 Oct (15).
    assert default_deadline(cal, policy, Severity.NORMAL, assigned) == date(2016, 10, 24)


def test_a_deadline_ends_at_midnight_shanghai():
    end = deadline_end(date(2016, 10, 10))
    assert end == datetime(2016, 10, 11, 0, 0, tzinfo=SHANGHAI)
    assert end.utcoffset().total_seconds() == 8 * 3600


def test_years_past_the_package_fall_back_to_weekdays_with_a_warning():
    cal = WorkCalendar()
    with pytest.warns(CalendarCoverageWarning, match="2027"):
        assert cal.is_workday(date(2027, 1, 4))  # Monday
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not cal.is_workday(date(2027, 1, 9))  # same year: warned once only


def test_operator_entries_extend_and_override_the_package():
    cal = WorkCalendar({date(2027, 2, 8): False, date(2027, 2, 20): True, date(2016, 10, 10): False})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 2027 is covered now: no warning
        assert not cal.is_workday(date(2027, 2, 8))
        assert cal.is_workday(date(2027, 2, 20))  # a Saturday worked
    assert not cal.is_workday(date(2016, 10, 10))  # override beats the package
    assert cal.add_workdays(date(2016, 9, 30), 3) == date(2016, 10, 11)


def test_holiday_table_loads_from_the_database(session):
    session.add(HolidayOverride(day=date(2027, 1, 1), kind=DayKind.OFF, name="元旦"))
    session.flush()
    cal = WorkCalendar.load(session)
    assert cal.covers(2027)
    assert not cal.is_workday(date(2027, 1, 1))


def test_holiday_file_errors_name_line_and_column():
    text = "date,kind,name\n2027-01-01,休,元旦\n2027-13-01,休,坏日期\n"
    with pytest.raises(ImportRejected, match="第 3 行第 1 列"):
        read_holidays(text, source="holidays.csv")
    with pytest.raises(ImportRejected, match="第 2 行第 2 列"):
        read_holidays("date,kind\n2027-01-01,放\n", source="holidays.csv")
    rows = read_holidays("# c\n\ndate,kind,name\n2027-02-20,班,春节调休\n", source="x")
    assert rows == [{"day": date(2027, 2, 20), "kind": DayKind.WORK, "name": "春节调休"}]
