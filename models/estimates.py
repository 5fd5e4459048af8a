"""What the sample says of the whole county, with its uncertainty (issue 21).

Inspections draw villages from a county, then households within each drawn village (a two-stage
sample). From the findings of the sampled places this module estimates, per county and check
category:

- the share of **villages** with the problem: the villages are a simple random draw, so the
  share is the sample proportion with a **Wilson score interval** (95 %);
- the share of **households** with the problem: a ratio estimator over the drawn villages
  (households with the problem / households checked). Households of one village resemble each
  other, so its variance is the **ultimate-cluster (Taylor linearisation) variance** between
  villages, with the finite-population correction for the share of villages drawn. The
  **design effect** (deff) is that variance over the variance a simple random sample of as many
  households would have. The interval is Wilson's on the **effective sample size**
  n / deff (Korn & Graubard), which stays within 0-100 % where a normal interval would not;
- **problems per hundred checks** in the county, the same ratio estimator over villages (a
  county-level check counts in a cluster of its own).

An estimate from fewer than MIN_VILLAGES villages, or with an effective sample below MIN_EFFECTIVE,
is flagged as too small to say anything.

The county ranking (models.figures) gets the same treatment: each county's closure rate with
its Wilson interval over its problems, the range of ranks it could hold (best: one plus the
counties whose whole interval is above its own; worst: the count less those wholly below), and
whether it can be told apart from the county ranked after it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from rectify.models.catalogue import CheckItem
from rectify.models.enums import Level, Result, Status
from rectify.models.figures import FigureRow
from rectify.models.inspections import Finding, Inspection
from rectify.models.issues import Issue
from rectify.models.places import County, Township, Village

Z = 1.959963984540054  # the normal quantile for a 95 % interval
MIN_VILLAGES = 3
MIN_EFFECTIVE = 10.0


def wilson(successes: float, n: float, z: float = Z) -> tuple[float, float] | None:
    """Wilson's score interval for a proportion; None without observations."""
    if n <= 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Estimate:
    value: float | None  # the point estimate (a share 0-1, or a rate per unit)
    low: float | None
    high: float | None
    clusters: int  # villages (and the county's own checks) the estimate rests on
    units: int  # households, villages or checks counted
    deff: float | None  # design effect; None where it is not defined
    effective: float  # the effective sample size
    too_small: bool

    def as_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high, "clusters": self.clusters,
                "units": self.units, "deff": self.deff, "effective": self.effective, "too_small": self.too_small}


def proportion(successes: int, n: int) -> Estimate:
    """A simple random sample of `n` (the villages): the share and its Wilson interval."""
    band = wilson(successes, n)
    return Estimate(successes / n if n else None, band[0] if band else None, band[1] if band else None,
                    clusters=n, units=n, deff=1.0 if n else None, effective=float(n),
                    too_small=n < MIN_VILLAGES)


def ratio(clusters: Sequence[tuple[float, float]], *, population: int | None = None) -> Estimate:
    """The ratio estimator sum(y) / sum(m) over clusters (y with the problem out of m checked),
    its linearised variance between clusters (with the finite-population correction when the
    number of clusters in the population is known), the design effect, and Wilson's interval on
    the effective sample size."""
    kept = [(y, m) for y, m in clusters if m > 0]
    n = len(kept)
    total = sum(m for _, m in kept)
    if n == 0 or total == 0:
        return Estimate(None, None, None, clusters=0, units=0, deff=None, effective=0.0, too_small=True)
    p = sum(y for y, _ in kept) / total
    if n == 1:
        one = wilson(p * total, total)
        assert one is not None  # total > 0
        return Estimate(p, one[0], one[1], clusters=1, units=int(total), deff=None, effective=float(total),
                        too_small=True)
    fpc = 1 - n / population if population and population >= n else 1.0
    spread = sum((y - p * m) ** 2 for y, m in kept) / (n - 1)
    variance = fpc * n * spread / total ** 2
    simple = p * (1 - p) / total
    deff: float | None
    if simple > 0 and variance > 0:
        deff = variance / simple
        effective = min(float(total), p * (1 - p) / variance)
    else:  # every cluster alike (all 0 %, all 100 %, or exactly the same share): no spread to measure
        deff, effective = (1.0 if simple > 0 else None), float(total)
    band = wilson(p * effective, effective)
    assert band is not None
    return Estimate(p, band[0], band[1], clusters=n, units=int(total), deff=deff, effective=effective,
                    too_small=n < MIN_VILLAGES or effective < MIN_EFFECTIVE)


def rate_per_hundred(clusters: Sequence[tuple[float, float]], *, population: int | None = None) -> Estimate:
    """Problems per hundred checks: the ratio over clusters, as a rate x 100. A check finds at
    most one problem, so the Wilson interval of the share applies before scaling."""
    share = ratio(clusters, population=population)
    if share.value is None:
        return share
    return Estimate(share.value * 100, (share.low or 0) * 100, (share.high or 0) * 100, clusters=share.clusters,
                    units=share.units, deff=share.deff, effective=share.effective, too_small=share.too_small)


# -- estimates from the findings ------------------------------------------------------------------
@dataclass(frozen=True)
class CategoryEstimate:
    county: str
    category: str
    villages: Estimate  # share of villages with a problem of this category (village-level items)
    households: Estimate  # share of households with a problem of this category (household items)

    def as_dict(self) -> dict:
        return {"county": self.county, "category": self.category, "villages": self.villages.as_dict(),
                "households": self.households.as_dict()}


@dataclass(frozen=True)
class CountyEstimate:
    county: str
    per_hundred: Estimate  # problems per hundred checks
    categories: list[CategoryEstimate]

    def as_dict(self) -> dict:
        return {"county": self.county, "per_hundred": self.per_hundred.as_dict(),
                "categories": [c.as_dict() for c in self.categories]}


class _Findings:
    """The findings an estimate reads (imported up to a moment, in a county, of an inspection),
    added up by the database per group: problems and checks."""

    def __init__(self, session: Session, *, as_of: datetime, county: County | None,
                 inspection: Inspection | None) -> None:
        self.session = session
        # A finding whose problem was voided (not a problem, a duplicate) counts as no problem.
        # The problem is looked up for failed checks only (about one in ten), not joined to all.
        voided = exists().where(Issue.id == Finding.issue_id, Issue.status == Status.VOID)
        self.problem = case(((Finding.result == Result.FAIL) & ~voided, 1), else_=0)
        self.scope = [Finding.imported_at <= as_of]
        if county is not None:
            self.scope.append(Finding.county_id == county.id)
        if inspection is not None:
            self.scope.append(Finding.inspection_id == inspection.id)

    def grouped(self, *columns, level: Level | None = None):
        query = select(*columns, func.sum(self.problem), func.count()).select_from(Finding).where(*self.scope)
        if level is not None:  # by category, of one level's items
            query = (query.join(CheckItem, CheckItem.id == Finding.check_item_id)
                     .where(CheckItem.level == level, Finding.village_id.is_not(None)))
        return self.session.execute(query.group_by(*columns))

    def clusters(self) -> dict[int, list[tuple[int, int]]]:
        """Per county, per village (the county's own checks as one more cluster): problems, checks.
        The failed checks are counted from the index alone, then those whose problem was voided
        taken off (two plain reads: a planner never hashes the whole problems table for it)."""
        counts = {(c, v): [int(f), int(n)] for c, v, f, n in self.session.execute(
            select(Finding.county_id, Finding.village_id, func.count().filter(Finding.result == Result.FAIL),
                   func.count())
            .where(*self.scope).group_by(Finding.county_id, Finding.village_id))}
        for county_id, village_id, voided in self.session.execute(
                select(Finding.county_id, Finding.village_id, func.count())
                .join(Issue, Issue.id == Finding.issue_id)
                .where(*self.scope, Finding.result == Result.FAIL, Finding.issue_id.is_not(None),
                       Issue.status == Status.VOID)
                .group_by(Finding.county_id, Finding.village_id)):
            counts[(county_id, village_id)][0] -= int(voided)
        found: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for (county_id, _), (problems, count) in counts.items():
            found[county_id].append((problems, count))
        return found


def _counties(session: Session) -> list[tuple[int, str, int]]:
    """The counties in the prefecture's order, each with its villages: the population the
    first stage draws from (one read)."""
    return [(r.id, r.name, r.villages) for r in session.execute(
        select(County.id, County.name, func.count(Village.id).label("villages"))
        .outerjoin(Township, Township.county_id == County.id).outerjoin(Village, Village.township_id == Township.id)
        .group_by(County.id, County.name, County.sort_order).order_by(County.sort_order))]


def estimates(session: Session, *, as_of: datetime, county: County | None = None,
              inspection: Inspection | None = None) -> list[CountyEstimate]:
    """Per county (in the prefecture's order) and check category, what its sampled places say
    of the whole county, from the findings imported up to `as_of`."""
    findings = _Findings(session, as_of=as_of, county=county, inspection=inspection)
    checks = findings.clusters()
    # Per county and category: whether each village had a village item's problem.
    village_hit: dict[int, dict[str, dict[int, bool]]] = defaultdict(lambda: defaultdict(dict))
    for county_id, category, village_id, problems, _ in findings.grouped(
            Finding.county_id, CheckItem.category, Finding.village_id, level=Level.VILLAGE):
        village_hit[county_id][category][village_id] = bool(problems)
    # Per county, category and village: whether each household had a household item's problem.
    household_hit: dict[int, dict[str, dict[int, dict[int, bool]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(dict)))
    for county_id, category, village_id, household_id, problems, _ in findings.grouped(
            Finding.county_id, CheckItem.category, Finding.village_id, Finding.household_id, level=Level.HOUSEHOLD):
        if household_id is not None:
            household_hit[county_id][category][village_id][household_id] = bool(problems)
    found = []
    for county_id, name, population in _counties(session):
        if county_id not in checks:
            continue
        categories = []
        for category in sorted(set(village_hit[county_id]) | set(household_hit[county_id])):
            hits = village_hit[county_id].get(category, {})
            houses = household_hit[county_id].get(category, {})
            categories.append(CategoryEstimate(
                county=name, category=category,
                villages=proportion(sum(hits.values()), len(hits)),
                households=ratio([(sum(h.values()), len(h)) for h in houses.values()], population=population)))
        found.append(CountyEstimate(name, rate_per_hundred(checks[county_id], population=population), categories))
    return found


def per_hundred_by_county(session: Session, *, as_of: datetime) -> dict[str, Estimate]:
    """每百项问题 per county: problems the sampled checks found, per hundred checks, with its
    interval (one grouped query). The one definition every surface shows; the same numbers as
    estimates() gives."""
    checks = _Findings(session, as_of=as_of, county=None, inspection=None).clusters()
    return {name: rate_per_hundred(checks[county_id], population=population)
            for county_id, name, population in _counties(session) if county_id in checks}


def interval_text(estimate: Estimate, *, percent: bool = True, digits: int = 1) -> str:
    """How an interval reads: 12.0%–31.5% (a share), or 3.2–7.9 (a rate); — without data."""
    if estimate.low is None or estimate.high is None:
        return "—"
    scale, unit = (100, "%") if percent else (1, "")
    return f"{estimate.low * scale:.{digits}f}{unit}–{estimate.high * scale:.{digits}f}{unit}"


# -- the ranking with its uncertainty ---------------------------------------------------------------
@dataclass(frozen=True)
class RankBand:
    key: str
    rank: int
    closure_low: float | None
    closure_high: float | None
    best: int  # the best rank the county could hold, given the intervals
    worst: int
    apart_from_next: bool  # its interval does not overlap the next county's
    too_small: bool

    def as_dict(self) -> dict:
        return {"closure_interval": [self.closure_low, self.closure_high], "rank_range": [self.best, self.worst],
                "apart_from_next": self.apart_from_next, "too_small": self.too_small}

    @property
    def interval(self) -> str:
        if self.closure_low is None or self.closure_high is None:
            return "—"
        return f"{self.closure_low * 100:.1f}%–{self.closure_high * 100:.1f}%"

    @property
    def ranks(self) -> str:
        """第 3 名 could be anywhere from 2nd to 7th: "2–7"; a rank the intervals fix: "3"."""
        return str(self.best) if self.best == self.worst else f"{self.best}–{self.worst}"


MIN_PROBLEMS = 10


def rank_bands(rows: Iterable[FigureRow]) -> dict[str, RankBand]:
    """For rows in ranking order: each closure rate's Wilson interval over its problems, the
    range of ranks it could hold, and whether it can be told from the next one."""
    ordered = list(rows)
    bands = []
    for r in ordered:
        band = wilson(r.closed + r.resolved_on_site, r.total)
        bands.append((r, band))
    found: dict[str, RankBand] = {}
    for index, (r, band) in enumerate(bands):
        low, high = band if band else (None, None)
        if band is None:
            best, worst = 1, len(bands)
        else:
            above = sum(1 for o, b in bands if o is not r and b is not None and b[0] > band[1])
            below = sum(1 for o, b in bands if o is not r and b is not None and b[1] < band[0])
            best, worst = 1 + above, len(bands) - below
        following = bands[index + 1][1] if index + 1 < len(bands) else None
        apart = band is not None and following is not None and (following[1] < band[0] or following[0] > band[1])
        found[r.key] = RankBand(r.key, r.rank, low, high, best, worst, apart, too_small=r.total < MIN_PROBLEMS)
    return found
