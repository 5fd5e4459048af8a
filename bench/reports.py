"""Benchmark: `rectify report` and the ledger export over 1,000,000 problems, on SQLite and
PostgreSQL, against the floor measured in the same run on the same table:

  floor     SELECT county_id, status, COUNT(*) FROM issues GROUP BY county_id, status
  report    the figures by county and by unit (all 16 of them, medians included), "as of now"
            (read from the running totals, models/tallies.py)
  intervals the county ranking with its uncertainty (models/estimates.py: each closure rate's
            interval, the ranks it could hold, problems per hundred checks with its interval),
            against the plain ranking (report --by county); goal: within 2x
  ledger    the 整改台账 workbook of one county (about 50,000 problems)
  writes    what keeping the running totals adds to one problem's update, and a full recount
  memory    peak memory of `rectify report --by unit --format json` run as a user runs it

Run: .venv/bin/python bench/reports.py [--issues 1000000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
(PostgreSQL is skipped, saying so, when it cannot be reached.)
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BIN, best_of, on_postgres, run_child, scratch  # noqa: E402

WORK = scratch("rectify-bench-reports-")

from population import NOW, build  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from rectify.flows import context as flow_context  # noqa: E402
from rectify.flows.context import unit_of_work  # noqa: E402
from rectify.flows.reports.ledger import write_ledger  # noqa: E402
from rectify.models import tallies  # noqa: E402
from rectify.models.figures import figures  # noqa: E402
from rectify.models.places import County  # noqa: E402


def floor(url: str) -> float:
    engine = flow_context.engine_for(url)
    with engine.connect() as connection:
        start = time.perf_counter()
        connection.execute(text("SELECT county_id, status, COUNT(*) FROM issues GROUP BY county_id, status")).all()
        return time.perf_counter() - start


def report(url: str, by: str) -> float:
    with unit_of_work(NOW, url=url) as ctx:
        start = time.perf_counter()
        rows = figures(ctx.session, by=by, as_of=NOW, calendar=ctx.calendar, policy=ctx.policy)
        elapsed = time.perf_counter() - start
    assert rows
    return elapsed


def sample_findings(url: str) -> int:
    """A campaign's sample, as the estimates read it: in each county 10 villages x 10 households,
    every item checked, about one check in ten a problem. Returns the checks written."""
    import random

    from sqlalchemy import insert

    from rectify.models.catalogue import CheckItem
    from rectify.models.enums import Level, Result
    from rectify.models.inspections import Finding, Inspection
    from rectify.models.places import Township, Village

    rng = random.Random(21)
    rows = []
    with unit_of_work(NOW, url=url) as ctx:
        session = ctx.session
        inspection = Inspection(name="基准抽样", campaign="基准")
        session.add(inspection)
        session.flush()
        items = {level: list(session.scalars(select(CheckItem.id).where(CheckItem.level == level)))
                 for level in Level}
        for county in session.scalars(select(County).order_by(County.sort_order)):
            villages = session.scalars(select(Village).join(Township).where(Township.county_id == county.id)
                                       .order_by(Village.id).limit(10)).all()
            places = [(None, None, item) for item in items[Level.COUNTY]]
            for village in villages:
                places += [(village, None, item) for item in items[Level.VILLAGE]]
                households = sorted(village.households, key=lambda h: h.id)[:10]
                places += [(village, h, item) for h in households for item in items[Level.HOUSEHOLD]]
            for village, household, item in places:
                rows.append({"inspection_id": inspection.id, "row_key": f"b{len(rows)}", "content_hash": "b",
                             "result": Result.FAIL if rng.random() < 0.1 else Result.PASS, "county_id": county.id,
                             "township_id": village.township_id if village else None,
                             "village_id": village.id if village else None,
                             "household_id": household.id if household else None, "check_item_id": item,
                             "source": "bench", "imported_at": NOW})
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Finding), rows[start:start + 10_000])
    engine = flow_context.engine_for(url)
    if engine.dialect.name == "postgresql":
        # What autovacuum does after a bulk insert (PostgreSQL 13+ vacuums on inserts too): the
        # statistics, and the visibility map that lets the count read the index alone. A ranking
        # is read days after the campaign's findings came in, not in the second after.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE findings"))
    return len(rows)


def ranking_with_intervals(url: str) -> float:
    from rectify.models.estimates import per_hundred_by_county, rank_bands

    with unit_of_work(NOW, url=url) as ctx:
        start = time.perf_counter()
        rows = figures(ctx.session, by="county", as_of=NOW, calendar=ctx.calendar, policy=ctx.policy)
        bands = rank_bands(rows)
        per_hundred_by_county(ctx.session, as_of=NOW)
        elapsed = time.perf_counter() - start
    assert len(bands) == len(rows)
    return elapsed


def ledger(url: str) -> tuple[float, int]:
    with unit_of_work(NOW, url=url) as ctx:
        county = ctx.session.scalars(select(County).where(County.name == "康定市")).one()
        start = time.perf_counter()
        result = write_ledger(ctx.session, WORK / "ledger.xlsx", now=NOW, calendar=ctx.calendar, policy=ctx.policy,
                              county=county)
        return time.perf_counter() - start, result.counties["康定市"]


def write_cost(url: str, changes: int = 2000) -> tuple[float, float, float]:
    """What keeping the running totals costs a write: `changes` single-problem updates (a
    submit: state and counter), with the triggers and without them; and one full recount.
    Each is timed in a transaction that is then rolled back."""
    engine = flow_context.engine_for(url)
    with engine.connect() as connection:
        ids = connection.execute(text("SELECT id FROM issues WHERE status = 'rectifying' ORDER BY id LIMIT :n"),
                                 {"n": changes}).scalars().all()

    def timed(work, *, triggers: bool = True) -> float:
        with engine.connect() as connection:
            transaction = connection.begin()
            if not triggers:
                tallies.uninstall(connection)
            start = time.perf_counter()
            work(connection)
            elapsed = time.perf_counter() - start
            transaction.rollback()
        return elapsed

    def submit_each(connection) -> None:
        for issue_id in ids:
            connection.execute(text("UPDATE issues SET status = 'submitted', submit_count = submit_count + 1 "
                                    "WHERE id = :id"), {"id": issue_id})

    kept = best_of(3, lambda: timed(submit_each)) / len(ids)
    bare = best_of(3, lambda: timed(submit_each, triggers=False)) / len(ids)
    return kept, bare, timed(tallies.refill)


def measure(label: str, url: str, issues: int) -> None:
    started = time.perf_counter()
    build(url, issues)
    built = time.perf_counter() - started
    gc.collect()
    gc.freeze()  # as `rectify` does at start: what is loaded is not walked by every collection
    floor_s = best_of(3, lambda: floor(url))
    county_s = best_of(5, lambda: report(url, "county"))
    unit_s = best_of(3, lambda: report(url, "unit"))
    sampled = sample_findings(url)
    intervals_s = best_of(5, lambda: ranking_with_intervals(url))
    ledger_s, ledger_rows = ledger(url)
    kept_s, bare_s, refill_s = write_cost(url)
    env = {**os.environ, "RECTIFY_DATABASE_URL": url}
    _, peak_mb, _ = run_child([str(BIN / "rectify"), "report", "--by", "unit", "--format", "json",
                               "--as-of", NOW.isoformat()], env)
    print(f"[{label}] {issues:,} problems (built in {built:.0f} s)")
    print(f"  floor: GROUP BY county, status   {floor_s:8.3f} s")
    print(f"  report --by county               {county_s:8.3f} s   {county_s / floor_s:5.2f}x floor")
    print(f"  report --by unit                 {unit_s:8.3f} s   {unit_s / floor_s:5.2f}x floor")
    print(f"  ranking with intervals           {intervals_s:8.3f} s   "
          f"{intervals_s / county_s:5.2f}x report --by county ({sampled:,} sampled checks)")
    print(f"  ledger of 康定市 ({ledger_rows:,} rows)   {ledger_s:8.2f} s")
    print(f"  one problem's update, totals kept  {kept_s * 1e6:6.0f} µs   {kept_s / bare_s:5.2f}x the same update "
          f"without them ({bare_s * 1e6:.0f} µs)")
    print(f"  recount of every total (refill)  {refill_s:8.2f} s")
    print(f"  peak memory of report --by unit  {peak_mb:8.0f} MB   (a new process, as a user runs it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        measure("SQLite", f"sqlite:///{WORK / 'reports.db'}", args.issues)
    try:
        on_postgres(args.pg, lambda url: measure("PostgreSQL", url, args.issues))
    finally:
        shutil.rmtree(WORK, ignore_errors=True)

if __name__ == "__main__":
    main()
