"""Which places an inspection visits (抽样), and which planned-exit villages none has covered yet.

The draw is reproducible from a seed: the same registry, campaign history and seed give the
same sample. Villages planned to exit this year that no earlier inspection of the campaign
covered come first (督导全覆盖); no household is drawn twice within a campaign.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from rectify.models.errors import InvalidInput
from rectify.models.inspections import Finding, Inspection, InspectionSample
from rectify.models.places import County, Household, Township, Village


@dataclass
class CountySample:
    county: County
    villages: list[Village]
    households: dict[int, list[Household]] = field(default_factory=dict)  # by village id
    reused: bool = False

    @property
    def household_count(self) -> int:
        return sum(len(h) for h in self.households.values())


def _inspection_scope(*, campaign: str | None, exclude: Inspection | None = None):
    scope = select(Inspection.id)
    if campaign is not None:
        scope = scope.where(Inspection.campaign == campaign)
    if exclude is not None:
        scope = scope.where(Inspection.id != exclude.id)
    return scope


def _visited(session: Session, scope) -> tuple[set[int], set[int]]:
    """(villages sampled, villages with imported findings) by the inspections in `scope`."""
    sampled = session.scalars(select(InspectionSample.village_id).where(InspectionSample.inspection_id.in_(scope)))
    inspected = session.scalars(
        select(Finding.village_id).where(Finding.inspection_id.in_(scope), Finding.village_id.is_not(None)))
    return {v for v in sampled if v is not None}, {v for v in inspected if v is not None}


def draw_sample(session: Session, *, inspection: Inspection, county: County, villages: int, households: int,
                seed: int, year: int) -> CountySample:
    """The inspection's sample in one county: drawn now, or the one drawn before (kept as it was)."""
    if villages < 1 or households < 0:
        raise InvalidInput(f"抽样数量无效:村 {villages}、户 {households}(村至少 1 个,户不能为负)")
    existing = session.scalars(
        select(InspectionSample).where(InspectionSample.inspection_id == inspection.id,
                                       InspectionSample.county_id == county.id).order_by(InspectionSample.id)
    ).all()
    if existing:
        return _as_sample(county, list(existing))

    rng = random.Random(f"{seed}/{county.name}")
    covered = set().union(*_visited(session, _inspection_scope(campaign=inspection.campaign, exclude=inspection)))
    candidates = session.scalars(
        select(Village).join(Township).where(Township.county_id == county.id, Village.is_poor.is_(True))
        .order_by(Village.id)
    ).all()
    if not candidates:
        raise InvalidInput(f"{county.name} 没有登记贫困村,无法抽样(请先导入村户登记数据)")
    tiers: list[list[Village]] = [[], [], [], []]
    for village in candidates:
        this_year = village.planned_exit_year == year
        tiers[(0 if this_year else 2) + (1 if village.id in covered else 0)].append(village)
    ordered: list[Village] = []
    for tier in tiers:
        rng.shuffle(tier)
        ordered.extend(tier)
    chosen = sorted(ordered[:villages], key=lambda v: v.id)

    used = set(session.scalars(
        select(InspectionSample.household_id).where(
            InspectionSample.inspection_id.in_(_inspection_scope(campaign=inspection.campaign, exclude=inspection)),
            InspectionSample.household_id.is_not(None))
    ).all())
    sample = CountySample(county=county, villages=chosen)
    for village in chosen:
        pool = [h for h in sorted(village.households, key=lambda h: h.id) if h.id not in used]
        picked = sorted(rng.sample(pool, min(households, len(pool))), key=lambda h: h.id)
        sample.households[village.id] = picked
        session.add(InspectionSample(inspection_id=inspection.id, county_id=county.id, village_id=village.id))
        for household in picked:
            session.add(InspectionSample(inspection_id=inspection.id, county_id=county.id, village_id=village.id,
                                         household_id=household.id))
    session.flush()
    return sample


def _as_sample(county: County, rows: list[InspectionSample]) -> CountySample:
    sample = CountySample(county=county, villages=[], reused=True)
    for row in rows:
        if row.household_id is None:
            sample.villages.append(row.village)
            sample.households.setdefault(row.village_id, [])
    for row in rows:
        if row.household is not None:
            sample.households.setdefault(row.village_id, []).append(row.household)
    return sample


@dataclass
class VillageCoverage:
    county: str
    township: str
    village: str
    sampled: bool
    inspected: bool


def coverage(session: Session, *, year: int, county: County | None = None,
             campaign: str | None = None) -> list[VillageCoverage]:
    """Every village planned to exit in `year`, with whether an inspection sampled or inspected it."""
    sampled, inspected = _visited(session, _inspection_scope(campaign=campaign))
    query = (
        select(County.name, Township.name, Village.name, Village.id)
        .join(Township, Village.township_id == Township.id).join(County, Township.county_id == County.id)
        .where(Village.planned_exit_year == year)
        .order_by(County.sort_order, Township.name, Village.name)
    )
    if county is not None:
        query = query.where(County.id == county.id)
    return [
        VillageCoverage(c, t, v, sampled=vid in sampled, inspected=vid in inspected)
        for c, t, v, vid in session.execute(query).tuples()
    ]


@dataclass
class CountyCoverage:
    county: str
    planned: int = 0
    inspected: int = 0
    sampled_only: int = 0
    uncovered: int = 0


def coverage_by_county(villages: list[VillageCoverage]) -> list[CountyCoverage]:
    """The villages' coverage tallied per county, in the villages' order."""
    per: dict[str, CountyCoverage] = {}
    for v in villages:
        row = per.setdefault(v.county, CountyCoverage(v.county))
        row.planned += 1
        row.inspected += v.inspected
        row.sampled_only += v.sampled and not v.inspected
        row.uncovered += not v.sampled and not v.inspected
    return list(per.values())
