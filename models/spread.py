"""举一反三 for one problem: among the places its inspection sampled, where the same check item
found a problem too, and where it has not been checked yet: where the unit should look next."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from rectify.models.enums import Level, Result
from rectify.models.inspections import Finding, InspectionSample
from rectify.models.issues import Issue
from rectify.models.places import Household, Village


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
