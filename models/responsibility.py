"""Who answers for a problem and by when: the default responsible unit of a place (PlaceRef),
which units may take a county's problem, and the deadline rule (a date, a number of working
days, or the policy's default by severity)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from rectify.models.calendar import WorkCalendar, local_date
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Level, Severity
from rectify.models.errors import InvalidInput
from rectify.models.org import Unit
from rectify.models.places import County, Household, Township, Village
from rectify.models.policy import Policy


def unit_may_take(unit: Unit, county: County) -> bool:
    """A county's problem goes to one of that county's units or to a prefecture-level unit."""
    return unit.county_id is None or unit.county_id == county.id


def why_unit_may_not_take(unit: Unit, county: County) -> str | None:
    """The reason, in words for the person assigning, or None when the unit may take it."""
    if unit_may_take(unit, county):
        return None
    return (f"责任单位「{unit.name}」属于{unit.county.name if unit.county else '其他县(市)'},"
            f"不能承办{county.name}的问题;请选{county.name}的单位或州级单位")


def check_unit_may_take(unit: Unit, county: County) -> None:
    reason = why_unit_may_not_take(unit, county)
    if reason is not None:
        raise InvalidInput(reason, field="unit")


@dataclass(frozen=True)
class PlaceRef:
    county: County
    township: Township | None = None
    village: Village | None = None
    household: Household | None = None

    def check_level(self, item: CheckItem) -> None:
        needs = {
            Level.COUNTY: None,
            Level.VILLAGE: ("村", self.village),
            Level.HOUSEHOLD: ("户", self.household),
        }[item.level]
        if needs is not None and needs[1] is None:
            raise InvalidInput(f"检查项目「{item.title}」是{item.level.label}级项目,必须指明{needs[0]}")

    def default_unit(self, county_government: Unit | None) -> Unit | None:
        """The village's 帮扶单位 for village/household problems, else the county government."""
        if self.village is not None and self.village.assisting_unit is not None:
            return self.village.assisting_unit
        return county_government


def default_deadline(calendar: WorkCalendar, policy: Policy, severity: Severity, now: datetime) -> date:
    return calendar.add_workdays(local_date(now), policy.default_deadline_days(severity))


def due_date(issue_code: str, deadline: date | int | None, *, now: datetime, severity: Severity,
             calendar: WorkCalendar, policy: Policy) -> date:
    """The deadline given (a date after today, or a number of working days from today), else
    the policy's default for the severity."""
    if deadline is None:
        return default_deadline(calendar, policy, severity, now)
    if isinstance(deadline, int):
        return calendar.add_workdays(local_date(now), deadline)
    if deadline <= local_date(now):
        raise InvalidInput(f"问题 {issue_code}:整改时限 {deadline} 必须晚于今天({local_date(now)})")
    return deadline
