"""举一反三 for one problem: among the places its inspection sampled, where the same check item
found a problem too, and where it has not been checked yet: where the unit should look next.
And what the units wrote when they submitted (原因分析, 举一反三, 建章立制), for the reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from rectify.models.enums import Level, Result, Status
from rectify.models.inspections import Finding, InspectionSample
from rectify.models.issues import Issue
from rectify.models.places import Household, Village, place_of


@dataclass(frozen=True)
class Place:
    village: str
    household: str | None  # the 建档立卡 number, for a household's item
    code: str | None = None  # the problem recorded there, when the item found one

    def as_dict(self) -> dict:
        return {"village": self.village, "household": self.household, "code": self.code}


@dataclass
class SameItem:
    sampled: int  # places the inspection sampled at the item's level, this one included
    found: list[Place] = field(default_factory=list)  # the item failed there too
    unchecked: list[Place] = field(default_factory=list)  # sampled, the item not yet recorded there

    def as_dict(self) -> dict:
        return {"sampled": self.sampled, "found": [p.as_dict() for p in self.found],
                "unchecked": [p.as_dict() for p in self.unchecked]}


def same_item_elsewhere(session: Session, issue: Issue) -> SameItem | None:
    """None when the problem came from no inspection's sample or its item is the county's."""
    level = issue.check_item.level
    if issue.inspection_id is None or level is Level.COUNTY:
        return None
    households = level is Level.HOUSEHOLD
    sample = select(InspectionSample.village_id, InspectionSample.household_id).where(
        InspectionSample.inspection_id == issue.inspection_id, InspectionSample.county_id == issue.county_id,
        InspectionSample.household_id.is_not(None) if households else InspectionSample.household_id.is_(None))
    sampled = {(v, h) for v, h in session.execute(sample)}
    recorded: dict[tuple, tuple[Result, int | None]] = {}
    for village_id, household_id, result, issue_id in session.execute(
            select(Finding.village_id, Finding.household_id, Finding.result, Finding.issue_id).where(
                Finding.inspection_id == issue.inspection_id, Finding.county_id == issue.county_id,
                Finding.check_item_id == issue.check_item_id)):
        recorded[(village_id, household_id if households else None)] = (result, issue_id)
    here = (issue.village_id, issue.household_id if households else None)
    found = {place: issue_id for place, (result, issue_id) in recorded.items()
             if result is Result.FAIL and place != here}
    unchecked = sorted(place for place in sampled - set(recorded) if place != here)
    villages = dict(session.execute(select(Village.id, Village.name).where(
        Village.id.in_({v for v, _ in [*found, *unchecked]}))).tuples().all())
    numbers = dict(session.execute(select(Household.id, Household.registry_no).where(
        Household.id.in_({h for _, h in [*found, *unchecked] if h is not None}))).tuples().all())
    codes = dict(session.execute(select(Issue.id, Issue.code).where(
        Issue.id.in_({i for i in found.values() if i is not None}))).tuples().all())

    def place(key: tuple, code: str | None = None) -> Place:
        return Place(villages.get(key[0], "?"), numbers.get(key[1]) if key[1] is not None else None, code)

    return SameItem(sampled=len(sampled | {here}),
                    found=sorted((place(k, codes.get(i) if i is not None else None) for k, i in found.items()),
                                 key=lambda p: (p.village, p.household or "")),
                    unchecked=[place(k) for k in unchecked])


@dataclass(frozen=True)
class Analysis:
    """One problem's submitted analysis, as the reports list it."""

    code: str
    place: str
    item: str
    unit: str
    status: str
    cause: str
    spread: str | None
    rules: str | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def analyses(session: Session, *, county_id: int | None = None, inspection_id: int | None = None) -> list[Analysis]:
    """The problems submitted with a 原因分析 (in the scope given), in code order; void ones left out."""
    query = (select(Issue).options(selectinload(Issue.county), selectinload(Issue.township),
                                   selectinload(Issue.village), selectinload(Issue.check_item),
                                   selectinload(Issue.unit))
             .where(Issue.cause.is_not(None), Issue.status != Status.VOID).order_by(Issue.code))
    if county_id is not None:
        query = query.where(Issue.county_id == county_id)
    if inspection_id is not None:
        query = query.where(Issue.inspection_id == inspection_id)
    return [Analysis(i.code, place_of(i), i.check_item.title, i.unit.name if i.unit else "", i.status.label,
                     i.cause or "", i.spread_note, i.rules_note) for i in session.scalars(query)]
