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

    from rectify.models.burden import sampled_times
    from rectify.models.policy import load_policy

    rng = random.Random(f"{seed}/{county.name}")
    campaign = _inspection_scope(campaign=inspection.campaign, exclude=inspection)
    covered = set().union(*_visited(session, campaign))
    # 基层减负: a village or a household already sampled as often as the policy allows in this
    # campaign is not drawn again.
    policy = load_policy(session)
    village_times, household_times = sampled_times(session, campaign_scope=campaign)
    candidates = session.scalars(
        select(Village).join(Township).where(Township.county_id == county.id, Village.is_poor.is_(True))
        .order_by(Village.id)
    ).all()
    if not candidates:
        raise InvalidInput(f"{county.name} 没有登记贫困村,无法抽样(请先导入村户登记数据)")
    tiers: list[list[Village]] = [[], [], [], []]
    for village in candidates:
        if village_times.get(village.id, 0) >= policy.visits_per_village_per_campaign:
            continue
        this_year = village.planned_exit_year == year
        tiers[(0 if this_year else 2) + (1 if village.id in covered else 0)].append(village)
    ordered: list[Village] = []
    for tier in tiers:
        rng.shuffle(tier)
        ordered.extend(tier)
    chosen = sorted(ordered[:villages], key=lambda v: v.id)

    used = {h for h, n in household_times.items() if n >= policy.visits_per_household_per_campaign}
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


@dataclass
class FollowUp:
    """举一反三: a county's next sample, aimed at the places most like those where problems were
    found, and the items (problem types) to check there."""

    sample: CountySample
    items: set[int]  # check item ids found (village and household level)
    why: dict[int, int] = field(default_factory=dict)  # village id -> its likeness score


def draw_followup(session: Session, *, inspection: Inspection, source: Inspection, county: County, villages: int,
                  households: int) -> FollowUp | None:
    """For each problem type `source` found in `county`, the villages and households not yet
    sampled (by the source or its campaign) most like those where it was found: the same
    township, the same planned exit year, the same 帮扶单位 each count one; a village's score
    adds its likeness to every village a problem was found in, weighted by the problem types
    found there. None when the source found no village- or household-level problem there."""
    from rectify.models.catalogue import CheckItem
    from rectify.models.enums import Level, Result, Status
    from rectify.models.issues import Issue

    if villages < 1 or households < 0:
        raise InvalidInput(f"抽样数量无效:村 {villages}、户 {households}(村至少 1 个,户不能为负)")
    existing = session.scalars(select(InspectionSample).where(
        InspectionSample.inspection_id == inspection.id, InspectionSample.county_id == county.id)).all()
    found = session.execute(
        select(Finding.check_item_id, Finding.village_id, Finding.household_id)
        .join(CheckItem, CheckItem.id == Finding.check_item_id).outerjoin(Issue, Issue.id == Finding.issue_id)
        .where(Finding.inspection_id == source.id, Finding.county_id == county.id, Finding.result == Result.FAIL,
               Finding.village_id.is_not(None), CheckItem.level.in_([Level.VILLAGE, Level.HOUSEHOLD]),
               (Finding.issue_id.is_(None)) | (Issue.status != Status.VOID))).all()
    if not found:
        return None
    items = {item for item, _, _ in found}
    if existing:
        return FollowUp(_as_sample(county, list(existing)), items)
    types_at: dict[int, set[int]] = {}
    for item, village_id, _ in found:
        types_at.setdefault(village_id, set()).add(item)
    exit_years_of_households = set(session.scalars(select(Household.planned_exit_year).where(
        Household.id.in_({h for _, _, h in found if h is not None}))))
    references = list(session.scalars(select(Village).where(Village.id.in_(types_at))))
    scope = _inspection_scope(campaign=source.campaign)
    sampled, inspected = _visited(session, scope.union(select(Inspection.id).where(Inspection.id == source.id)))
    seen = sampled | inspected
    candidates = session.scalars(select(Village).join(Township).where(
        Township.county_id == county.id, Village.is_poor.is_(True)).order_by(Village.id)).all()

    def likeness(village: Village) -> int:
        return sum(len(types_at[r.id]) * (int(village.township_id == r.township_id)
                                          + int(village.planned_exit_year == r.planned_exit_year)
                                          + int(village.assisting_unit_id == r.assisting_unit_id))
                   for r in references)

    scored = sorted(((likeness(v), v) for v in candidates if v.id not in seen), key=lambda sv: (-sv[0], sv[1].id))
    chosen = [v for _, v in scored[:villages]]
    used = set(session.scalars(select(InspectionSample.household_id).where(
        InspectionSample.inspection_id.in_(scope), InspectionSample.household_id.is_not(None))))
    sample = CountySample(county=county, villages=chosen)
    for village in chosen:
        pool = [h for h in sorted(village.households, key=lambda h: h.id) if h.id not in used]
        # Households planned to exit the year the problem households were: most like them.
        pool.sort(key=lambda h: (h.planned_exit_year not in exit_years_of_households, h.id))
        sample.households[village.id] = sorted(pool[:households], key=lambda h: h.id)
        session.add(InspectionSample(inspection_id=inspection.id, county_id=county.id, village_id=village.id))
        for household in sample.households[village.id]:
            session.add(InspectionSample(inspection_id=inspection.id, county_id=county.id, village_id=village.id,
                                         household_id=household.id))
    session.flush()
    return FollowUp(sample, items, {v.id: score for score, v in scored[:villages]})
