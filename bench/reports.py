"""Benchmark: `rectify report` and the ledger export over 1,000,000 problems, on SQLite and
PostgreSQL, against the floor measured in the same run on the same table:

  floor     SELECT county_id, status, COUNT(*) FROM issues GROUP BY county_id, status
  report    the figures by county and by unit (all 16 of them, medians included)
  ledger    the 整改台账 workbook of one county (about 50,000 problems)
  memory    peak memory of `rectify report --by unit --format json` run as a user runs it

Run: .venv/bin/python bench/reports.py [--issues 1000000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
(PostgreSQL is skipped, saying so, when it cannot be reached.)
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BIN, best_of, run_child, scratch  # noqa: E402

WORK = scratch("rectify-bench-reports-")

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from flows import context as flow_context  # noqa: E402
from flows.context import unit_of_work  # noqa: E402
from flows.reports.ledger import write_ledger  # noqa: E402
from models import migrate  # noqa: E402
from models.calendar import SHANGHAI  # noqa: E402
from models.catalogue import CheckItem  # noqa: E402
from models.db import normalise_url  # noqa: E402
from models.enums import Severity, Status, Supervision, UnitKind  # noqa: E402
from models.figures import figures  # noqa: E402
from models.issues import Issue, IssueEvent  # noqa: E402
from models.org import Unit, User  # noqa: E402
from models.places import County  # noqa: E402
from seeds.loader import SeedReport, load_reference  # noqa: E402
from seeds.synthetic import load_synthetic  # noqa: E402

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
        ctx.session.execute(insert(Unit), [{"name": f"基准单位{n:04d}", "kind": UnitKind.COUNTY_DEPARTMENT,
                                            "county_id": counties[n % 19].id} for n in range(max(0, 1000 - have))])
        units = ctx.session.execute(select(Unit.id, Unit.county_id).where(Unit.county_id.is_not(None))).all()
        items = list(ctx.session.scalars(select(CheckItem.id)))
        actor = ctx.session.scalar(select(User.id).where(User.name == "督导员01"))
    states = [s for s, weight in STATES for _ in range(weight)]
    engine = flow_context.engine_for(url)
    start_day = date(2016, 6, 1)
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
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))


def floor(url: str) -> float:
    engine = flow_context.engine_for(url)
    with engine.connect() as connection:
        start = time.perf_counter()
        connection.execute(text("SELECT county_id, status, COUNT(*) FROM issues GROUP BY county_id, status")).all()
        return time.perf_counter() - start


def report(url: str, by: str) -> float:
    with unit_of_work(NOW, url=url) as ctx:
        start = time.perf_counter()
        rows = figures(ctx.session, by=by, as_of=NOW, calendar=ctx.calendar)
        elapsed = time.perf_counter() - start
    assert rows
    return elapsed


def ledger(url: str) -> tuple[float, int]:
    with unit_of_work(NOW, url=url) as ctx:
        county = ctx.session.scalars(select(County).where(County.name == "康定市")).one()
        start = time.perf_counter()
        result = write_ledger(ctx.session, WORK / "ledger.xlsx", now=NOW, calendar=ctx.calendar, policy=ctx.policy,
                              county=county)
        return time.perf_counter() - start, result.counties["康定市"]


def measure(label: str, url: str, issues: int) -> None:
    started = time.perf_counter()
    build(url, issues)
    built = time.perf_counter() - started
    floor_s = best_of(3, lambda: floor(url))
    county_s = best_of(3, lambda: report(url, "county"))
    unit_s = best_of(3, lambda: report(url, "unit"))
    ledger_s, ledger_rows = ledger(url)
    env = {**os.environ, "RECTIFY_DATABASE_URL": url}
    _, peak_mb, _ = run_child([str(BIN / "rectify"), "report", "--by", "unit", "--format", "json",
                               "--as-of", NOW.isoformat()], env)
    print(f"[{label}] {issues:,} problems (built in {built:.0f} s)")
    print(f"  floor: GROUP BY county, status   {floor_s:8.3f} s")
    print(f"  report --by county               {county_s:8.3f} s   {county_s / floor_s:5.2f}x floor")
    print(f"  report --by unit                 {unit_s:8.3f} s   {unit_s / floor_s:5.2f}x floor")
    print(f"  ledger of 康定市 ({ledger_rows:,} rows)   {ledger_s:8.2f} s")
    print(f"  peak memory of report --by unit  {peak_mb:8.0f} MB   (a new process, as a user runs it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        measure("SQLite", f"sqlite:///{WORK / 'reports.db'}", args.issues)
    name = f"rectify_bench_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(normalise_url(args.pg))
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - report and go on without PostgreSQL
        print(f"[PostgreSQL] skipped: cannot reach {args.pg} ({type(exc).__name__})")
        return
    try:
        measure("PostgreSQL", admin_url.set(database=name).render_as_string(hide_password=False), args.issues)
    finally:
        for engine in flow_context._engines.values():
            engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
