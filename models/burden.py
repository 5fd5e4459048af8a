"""The burden on the grassroots (基层减负): how often, over a period, each village and household
was visited by inspections, and how many evidence requests and reminders each unit received;
the policy's caps (models.policy) beside them.

- a **visit** is one inspection's checks at a place (a village, or a household), dated by the
  day the team checked it (else the day it was imported);
- an **evidence request** is a step that asks a unit for measures and evidence: a problem handed
  to it (交办), a submission sent back (退回重改), a closed problem reopened (反弹重开);
- a **reminder** is a digest the unit received (its sent messages, one per send).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rectify.models.calendar import SHANGHAI, local_date
from rectify.models.deliveries import Delivery
from rectify.models.enums import DeliveryStatus, Status
from rectify.models.inspections import Finding, InspectionSample
from rectify.models.issues import Issue, IssueEvent
from rectify.models.org import Unit
from rectify.models.places import County, Household, Township, Village
from rectify.models.policy import Policy

REQUESTS = ("return", "reopen")


@dataclass(frozen=True)
class Load:
    key: str  # the village, household or unit
    county: str
    visits: int = 0
    evidence_requests: int = 0
    reminders: int = 0
    busiest_day: int = 0  # a unit's most digests in one day
    over_cap: bool = False

    def as_dict(self) -> dict:
        return {"key": self.key, "county": self.county, "visits": self.visits,
                "evidence_requests": self.evidence_requests, "reminders": self.reminders,
                "busiest_day": self.busiest_day, "over_cap": self.over_cap}


def _visits(session: Session, *, since: date, until: date, household: bool, county: County | None):
    """Per place, the inspections that checked it within [since, until]."""
    place = Finding.household_id if household else Finding.village_id
    query = (select(place, Finding.inspection_id, func.min(Finding.checked_on), func.min(Finding.imported_at))
             .where(place.is_not(None)).group_by(place, Finding.inspection_id))
    if county is not None:
        query = query.where(Finding.county_id == county.id)
    found: dict[int, int] = defaultdict(int)
    for place_id, _, checked, imported in session.execute(query):
        day = checked or local_date(imported)
        if since <= day <= until:
            found[place_id] += 1
    return found


def place_burden(session: Session, *, since: date, until: date, household: bool, policy: Policy,
                 county: County | None = None) -> list[Load]:
    """Villages (or households) visited in the period, most visited first."""
    visits = _visits(session, since=since, until=until, household=household, county=county)
    if not visits:
        return []
    cap = policy.visits_per_household_per_campaign if household else policy.visits_per_village_per_campaign
    if household:
        names = session.execute(select(Household.id, Household.registry_no, Village.name, County.name)
                                .join(Village, Village.id == Household.village_id).join(Township)
                                .join(County, County.id == Township.county_id)
                                .where(Household.id.in_(visits)))
        rows = {i: (f"{v} {r}", c) for i, r, v, c in names}
    else:
        names = session.execute(select(Village.id, Village.name, County.name).join(Township)
                                .join(County, County.id == Township.county_id).where(Village.id.in_(visits)))
        rows = {i: (v, c) for i, v, c in names}
    loads = [Load(rows[i][0], rows[i][1], visits=n, over_cap=n > cap) for i, n in visits.items() if i in rows]
    return sorted(loads, key=lambda x: (-x.visits, x.county, x.key))


def unit_burden(session: Session, *, since: datetime, until: datetime, policy: Policy,
                county: County | None = None) -> list[Load]:
    """Units' evidence requests and reminders in the period, the most burdened first."""
    requests = dict(session.execute(
        select(Issue.unit_id, func.count()).join(IssueEvent, IssueEvent.issue_id == Issue.id)
        .where(IssueEvent.at >= since, IssueEvent.at <= until, Issue.unit_id.is_not(None),
               (IssueEvent.to_status == Status.ASSIGNED) | IssueEvent.action.in_(REQUESTS))
        .group_by(Issue.unit_id)).tuples().all())
    digests: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for unit_id, sent_at in session.execute(
            select(Delivery.unit_id, Delivery.sent_at).where(
                Delivery.unit_id.is_not(None), Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= since,
                Delivery.sent_at <= until).distinct()):
        digests[unit_id][local_date(sent_at)] += 1
    wanted = set(requests) | set(digests)
    if not wanted:
        return []
    query = select(Unit.id, Unit.name, County.name).outerjoin(County, County.id == Unit.county_id) \
        .where(Unit.id.in_(wanted))
    if county is not None:
        query = query.where(Unit.county_id == county.id)
    loads = []
    for unit_id, name, county_name in session.execute(query):
        days = digests.get(unit_id, {})
        busiest = max(days.values(), default=0)
        loads.append(Load(name, county_name or "州级", evidence_requests=int(requests.get(unit_id, 0)),
                          reminders=sum(days.values()), busiest_day=busiest,
                          over_cap=busiest > policy.reminders_per_unit_per_day))
    return sorted(loads, key=lambda x: (-(x.evidence_requests + x.reminders), x.key))


def county_burden(session: Session, *, since: datetime, until: datetime, policy: Policy) -> dict[str, dict]:
    """Per county, for the bulletin: village and household visits, evidence requests and
    reminders to its units, and how many places or units went over a cap."""
    totals: dict[str, dict] = defaultdict(lambda: {"village_visits": 0, "household_visits": 0,
                                                   "evidence_requests": 0, "reminders": 0, "over_cap": 0})
    first, last = local_date(since), local_date(until)
    for household, key in ((False, "village_visits"), (True, "household_visits")):
        for load in place_burden(session, since=first, until=last, household=household, policy=policy):
            totals[load.county][key] += load.visits
            totals[load.county]["over_cap"] += load.over_cap
    for load in unit_burden(session, since=since, until=until, policy=policy):
        totals[load.county]["evidence_requests"] += load.evidence_requests
        totals[load.county]["reminders"] += load.reminders
        totals[load.county]["over_cap"] += load.over_cap
    return dict(totals)


def sampled_times(session: Session, *, campaign_scope) -> tuple[dict[int, int], dict[int, int]]:
    """How many times each village and household was sampled by the inspections in scope."""
    villages: dict[int, int] = defaultdict(int)
    households: dict[int, int] = defaultdict(int)
    for village_id, household_id in session.execute(
            select(InspectionSample.village_id, InspectionSample.household_id)
            .where(InspectionSample.inspection_id.in_(campaign_scope))):
        if household_id is None:
            villages[village_id] += 1
        else:
            households[household_id] += 1
    return villages, households


def digests_today(session: Session, *, today: date) -> dict[str, int]:
    """Digests each unit recipient has received on `today` (one per send)."""
    begin = datetime.combine(today, time(0), SHANGHAI)
    rows = session.execute(select(Delivery.recipient, Delivery.sent_at).where(
        Delivery.unit_id.is_not(None), Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= begin,
        Delivery.sent_at < begin + timedelta(days=1)).distinct())
    found: dict[str, int] = defaultdict(int)
    for recipient, _ in rows:
        found[recipient] += 1
    return dict(found)
