"""The synthetic population the benchmarks measure: the seeded registry plus N problems in
realistic states (45% closed, 10% on site, 20% rectifying, …) with their events, bulk-inserted."""

from __future__ import annotations

import os
import random
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select, text

from rectify.flows import context as flow_context
from rectify.flows.context import unit_of_work
from rectify.models import migrate, tallies
from rectify.models.calendar import SHANGHAI
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Severity, Status, Supervision, UnitKind
from rectify.models.issues import Issue, IssueEvent
from rectify.models.org import Unit, User
from rectify.models.places import County
from rectify.seeds.loader import SeedReport, load_reference
from rectify.seeds.synthetic import load_synthetic

NOW = datetime(2016, 12, 30, 18, 0, tzinfo=SHANGHAI)
STATES = [(Status.CLOSED, 45), (Status.RESOLVED_ON_SITE, 10), (Status.RECTIFYING, 20), (Status.ASSIGNED, 10),
          (Status.SUBMITTED, 8), (Status.TRIAGE, 3), (Status.VOID, 4)]


def build(url: str, issues: int) -> None:
    os.environ["RECTIFY_DATABASE_URL"] = url
    migrate.upgrade()
    rng = random.Random(7)
    with unit_of_work(NOW) as ctx:
        load_reference(ctx.session)
        load_synthetic(ctx.session, SeedReport())
        counties = list(ctx.session.scalars(select(County).order_by(County.sort_order)))
        have = ctx.session.query(Unit).count()
        extra = [{"name": f"基准单位{n:04d}", "kind": UnitKind.COUNTY_DEPARTMENT, "county_id": counties[n % 19].id}
                 for n in range(max(0, 1000 - have))]
        if extra:
            ctx.session.execute(insert(Unit), extra)
        units = ctx.session.execute(select(Unit.id, Unit.county_id).where(Unit.county_id.is_not(None))).all()
        items = list(ctx.session.scalars(select(CheckItem.id)))
        actor = ctx.session.scalar(select(User.id).where(User.name == "督导员01"))
    states = [s for s, weight in STATES for _ in range(weight)]
    engine = flow_context.engine_for(url)
    start_day = date(2016, 6, 1)
    # A bulk load: the running totals are recounted once at the end, not kept row by row.
    with engine.begin() as connection:
        tallies.uninstall(connection)
    for first in range(0, issues, 20_000):
        rows, events = [], []
        for n in range(first, min(issues, first + 20_000)):
            unit_id, county_id = units[n % len(units)]
            status = rng.choice(states)
            created = datetime.combine(start_day + timedelta(days=rng.randrange(200)), datetime.min.time(), SHANGHAI)
            deadline = created.date() + timedelta(days=rng.choice((5, 10, 21)))
            handed = status not in (Status.TRIAGE, Status.RESOLVED_ON_SITE, Status.VOID)
            closed = status is Status.CLOSED
            rows.append({
                "id": n + 1, "code": f"BM-{n:07d}", "county_id": county_id, "check_item_id": rng.choice(items),
                "description": "基准", "severity": rng.choice(list(Severity)), "good_practice": False, "status": status,
                "unit_id": unit_id if handed else None, "original_deadline": deadline if handed else None,
                "deadline": (deadline + timedelta(days=7 if rng.random() < 0.08 else 0)) if handed else None,
                "supervision": rng.choice([Supervision.NORMAL] * 8 + [Supervision.YELLOW, Supervision.RED]),
                "reopen_count": 1 if rng.random() < 0.03 else 0, "created_at": created,
                "assigned_at": created if handed else None,
                "closed_at": min(created + timedelta(days=rng.randrange(3, 40)), NOW - timedelta(hours=1))
                if closed else None,
                "resolved_on_site_at": created if status is Status.RESOLVED_ON_SITE else None,
                "sign_count": 1 if handed else 0, "late_sign_count": 1 if handed and rng.random() < 0.1 else 0,
                "extension_count": 1 if handed and rng.random() < 0.08 else 0,
                "submit_count": rng.choice((1, 1, 2)) if status in (Status.CLOSED, Status.SUBMITTED) else 0,
                "return_count": 1 if closed and rng.random() < 0.1 else 0,
                "closed_on_time": rng.random() < 0.7 if closed else None,
                "days_to_close": rng.randrange(2, 30) if closed else None, "version": 1})
            events.append({"issue_id": n + 1, "seq": 1, "action": "record", "actor_id": actor, "at": created,
                           "from_status": None, "to_status": Status.TRIAGE, "payload": {}})
            if handed and rng.random() < 0.3:
                events.append({"issue_id": n + 1, "seq": 2, "action": "progress", "actor_id": actor,
                               "at": created + timedelta(days=2), "from_status": Status.RECTIFYING,
                               "to_status": Status.RECTIFYING, "note": "已落实整改措施", "payload": {}})
            if closed:
                events.append({"issue_id": n + 1, "seq": 3, "action": "verify", "actor_id": actor,
                               "at": rows[-1]["closed_at"], "from_status": Status.SUBMITTED,
                               "to_status": Status.CLOSED, "note": "销号", "payload": {}})
        with engine.begin() as connection:
            connection.execute(insert(Issue), rows)
            connection.execute(insert(IssueEvent), events)
    with engine.begin() as connection:
        tallies.install(connection)
        tallies.refill(connection)
    if engine.dialect.name == "postgresql":
        # What autovacuum does after a bulk load, done before the measuring starts: otherwise its
        # workers vacuum the million rows on the same two cores while the figures are taken.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
