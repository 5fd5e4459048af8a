"""Benchmark: `send-reminders` over 100,000 open problems of 1,000 units in 19 counties.

Measured in the same run:

  selection      the SQL that finds every reminder and escalation due (select_due)
  flow           the whole `send-reminders` flow run, end to end, in a new process against a
                 running Prefect server: escalations, ledger, one digest per recipient
                 delivered to the local outbox (a directory: the sink)
  task runs      the number of Prefect task runs at 1,000 and at 100,000 problems
  peak memory    of the process that ran the 100,000-problem flow

Run: .venv/bin/python bench/send_reminders.py [--issues 100000] [--units 1000]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BIN, best_of, run_child, scratch, start_prefect_server, stop  # noqa: E402

WORK = scratch("rectify-bench-remind-")

from sqlalchemy import insert, select  # noqa: E402

from rectify.flows import context as flow_context  # noqa: E402
from rectify.flows.context import unit_of_work  # noqa: E402
from rectify.models import migrate  # noqa: E402
from rectify.models.calendar import SHANGHAI  # noqa: E402
from rectify.models.catalogue import CheckItem  # noqa: E402
from rectify.models.enums import Level, Severity, Status, Supervision, UnitKind  # noqa: E402
from rectify.models.issues import Issue  # noqa: E402
from rectify.models.org import Unit  # noqa: E402
from rectify.models.places import County  # noqa: E402
from rectify.models.reminders import Thresholds, due_rows, to_dues  # noqa: E402
from rectify.seeds.loader import SeedReport, load_reference  # noqa: E402
from rectify.seeds.synthetic import load_synthetic  # noqa: E402

TODAY = date(2016, 9, 21)
NOW = datetime(2016, 9, 21, 8, 30, tzinfo=SHANGHAI)
NEXT = datetime(2016, 9, 22, 8, 30, tzinfo=SHANGHAI)
CHILD = """
import sys
from datetime import datetime
from rectify.flows.reminders import send_reminders
from rectify.models.calendar import SHANGHAI
state = send_reminders(datetime.fromisoformat(sys.argv[1]), return_state=True)
summary = state.result()
print(state.state_details.flow_run_id, summary.queued, summary.delivered, summary.recipients, len(summary.failed))
"""


def build(issues: int, units: int) -> str:
    """A seeded database with `units` units and `issues` open problems spread around today."""
    url = f"sqlite:///{WORK / f'remind-{issues}.db'}"
    os.environ["RECTIFY_DATABASE_URL"] = url
    migrate.upgrade()
    rng = random.Random(issues)
    with unit_of_work(NOW) as ctx:
        load_reference(ctx.session)
        load_synthetic(ctx.session, SeedReport())
        counties = list(ctx.session.scalars(select(County).order_by(County.sort_order)))
        existing = ctx.session.query(Unit).count()
        extra = [{"name": f"基准单位{n:04d}", "kind": UnitKind.COUNTY_DEPARTMENT, "county_id": counties[n % 19].id}
                 for n in range(max(0, units - existing))]
        if extra:  # an empty list would be INSERT … DEFAULT VALUES
            ctx.session.execute(insert(Unit), extra)
        all_units = ctx.session.execute(select(Unit.id, Unit.county_id).where(Unit.county_id.is_not(None))).all()
        item = ctx.session.scalars(select(CheckItem).where(CheckItem.level == Level.COUNTY)).first()
        calendar = ctx.calendar
        days = [calendar.add_workdays(TODAY - timedelta(days=45), n) for n in range(1, 50)]  # about -30 … +15 wd
        rows = []
        for n in range(issues):
            unit_id, county_id = all_units[n % len(all_units)]
            deadline = rng.choice(days)
            assigned = datetime.combine(deadline - timedelta(days=21), datetime.min.time(), SHANGHAI)
            status = Status.ASSIGNED if rng.random() < 0.3 else Status.RECTIFYING
            rows.append({
                "code": f"BM-2016-{n:06d}", "county_id": county_id, "check_item_id": item.id,
                "description": "基准测试问题", "severity": Severity.NORMAL, "good_practice": False, "status": status,
                "unit_id": unit_id, "original_deadline": deadline, "deadline": deadline,
                "supervision": Supervision.NORMAL, "reopen_count": 0, "created_at": assigned,
                "assigned_at": assigned, "rectifying_at": assigned if status is Status.RECTIFYING else None,
                "version": 1})
        for start in range(0, len(rows), 5000):
            ctx.session.execute(insert(Issue), rows[start:start + 5000])
    for engine in flow_context._engines.values():
        engine.dispose()
    snapshot = WORK / f"remind-{issues}.snapshot.db"
    shutil.copyfile(WORK / f"remind-{issues}.db", snapshot)
    return url


def selection(url: str) -> tuple[float, float, int, int]:
    """(seconds of the SQL, seconds building the message items, reminders due, escalations due)."""
    with unit_of_work(NOW, url=url) as ctx:
        thresholds = Thresholds.at(ctx.today, calendar=ctx.calendar, policy=ctx.policy)
        start = time.perf_counter()
        rows = due_rows(ctx.session, thresholds)
        middle = time.perf_counter()
        reminders, raise_to = to_dues(rows, thresholds, calendar=ctx.calendar)
        end = time.perf_counter()
        ctx.session.rollback()
    return middle - start, end - middle, len(reminders), sum(len(v) for v in raise_to.values())


def flow_run(issues: int, api_url: str, now: datetime = NOW, fresh: bool = True) -> tuple[float, float, list[str]]:
    db = WORK / f"remind-{issues}.db"
    if fresh:
        shutil.copyfile(WORK / f"remind-{issues}.snapshot.db", db)
    env = {**os.environ, "RECTIFY_DATABASE_URL": f"sqlite:///{db}", "PREFECT_API_URL": api_url,
           "RECTIFY_HOME": str(WORK / f"home-{issues}")}
    elapsed, peak_mb, out = run_child([str(BIN / "python"), "-c", CHILD, now.isoformat()], env)
    return elapsed, peak_mb, out.split()


def task_runs(flow_run_id: str) -> int:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return len(client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=1_000)
    args = parser.parse_args()
    build(1_000, args.units)
    big_url = build(args.issues, args.units)
    select_s, items_s, reminders, escalations = best_of(3, lambda: selection(big_url))
    server, api_url, _ = start_prefect_server()
    try:
        os.environ["PREFECT_API_URL"] = api_url
        big_s, peak_mb, (big_run, queued, delivered, recipients, failed) = flow_run(args.issues, api_url)
        # The next working day on the same data: the daily overdue notices, no mass escalation.
        next_s, _, (_run, next_queued, *_more) = flow_run(args.issues, api_url, NEXT, fresh=False)
        small_s, _, (small_run, *_rest) = flow_run(1_000, api_url)
        big_tasks, small_tasks = task_runs(big_run), task_runs(small_run)
    finally:
        stop(server)
    outbox = sum(1 for _ in (WORK / f"home-{args.issues}" / "outbox" / TODAY.isoformat()).glob("*.md"))
    print(f"open problems / units             {args.issues:>8} / {args.units}")
    print(f"selection query (due_rows)        {select_s:8.2f} s   {reminders} reminders, {escalations} escalations due")
    print(f"building their message items      {items_s:8.2f} s")
    print(f"send-reminders flow, end to end   {big_s:8.2f} s   {queued} ledger rows, {delivered} delivered, "
          f"{recipients} digests ({outbox} outbox files), {failed} failed")
    print(f"  the next working day          {next_s:8.2f} s   {next_queued} ledger rows"
          " (daily notices, few escalations)")
    print(f"  same flow at 1,000 problems     {small_s:8.2f} s   (process and Prefect start-up dominate)")
    print(f"Prefect task runs                 {small_tasks:>8} at 1,000 · {big_tasks} at {args.issues:,}")
    print(f"peak memory of the 100k run       {peak_mb:8.0f} MB")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
