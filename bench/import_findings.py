"""Benchmark: `rectify import` of a 10,000-row findings workbook, against the bare floor.

The floor is what no import can beat: reading the same workbook with openpyxl in read-only
mode plus one bulk SQLAlchemy Core insert of the same rows. Measured in the same run:

  floor          openpyxl read + Core insert of the raw rows
  use case       rectify's import (validate every row, write problems, events, findings, notices)
  flow           the same through the Prefect flow, against a running Prefect server
  command        `rectify import` as a user runs it (new process) with that server running
  rejected       the same command on the same workbook with one bad last row: it reads every
                 row, refuses the file and writes the marked copy (错误说明), streamed. Goal:
                 within 1.5x the valid command's time and under 500 MB (issue 16)
  prefect start  a Prefect server's own start-up (reported alone, outside the ratios)

Run: .venv/bin/python bench/import_findings.py [--rows 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BIN, best_of, run_child, scratch, start_prefect_server, stop  # noqa: E402

WORK = scratch("rectify-bench-")
os.environ["RECTIFY_DATABASE_URL"] = f"sqlite:///{WORK / 'seeded.db'}"

from openpyxl import Workbook, load_workbook  # noqa: E402
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert  # noqa: E402

from rectify.flows import context as flow_context  # noqa: E402
from rectify.flows.clock import parse_instant  # noqa: E402
from rectify.flows.context import unit_of_work  # noqa: E402
from rectify.flows.demo_findings import fill_plan  # noqa: E402
from rectify.flows.intake.columns import COLUMNS, column_key  # noqa: E402
from rectify.flows.intake.plan import make_plan  # noqa: E402
from rectify.models import migrate  # noqa: E402
from rectify.seeds.loader import SeedReport, load_reference  # noqa: E402
from rectify.seeds.synthetic import load_synthetic  # noqa: E402

INSPECTION = "基准测试督导"
NOW = "2016-08-22 09:00"


def build_workbook(rows: int) -> Path:
    """A plan for every county, filled as the demo fills it, on one sheet: cut to `rows` rows, or
    repeated with fresh 问题编号 when the plan has fewer (about 11,800)."""
    migrate.upgrade()
    with unit_of_work(parse_instant("2016-08-19")) as ctx:
        load_reference(ctx.session)
        load_synthetic(ctx.session, SeedReport())
        make_plan(ctx, inspection=INSPECTION, county=None, villages=6, households=6, seed=1,
                  out=WORK / "plan.xlsx", leader="督导组长01")
    fill_plan(WORK / "plan.xlsx", WORK / "filled.xlsx", seed=1, leader="督导组长01", checked_on=date(2016, 8, 20),
              inspector="督导员01", fail_share=0.1)
    source = load_workbook(WORK / "filled.xlsx", read_only=True)
    # A normal (not write-only) workbook records its dimension, as every file Excel saves does.
    out = Workbook()
    sheet = out.active
    sheet.title = "督导发现问题"
    headers = [c.header for c in COLUMNS]
    sheet.append(headers)
    plan_rows = []
    for level in ("户", "村", "县"):
        rows_iter = source[level].iter_rows(values_only=True)
        keys = [column_key(h) for h in next(rows_iter)]
        plan_rows += [dict(zip(keys, values, strict=True)) for values in rows_iter]
    source.close()
    written = 0
    for round_ in itertools.count():
        for by_key in plan_rows[: rows - written]:
            values = [by_key.get(c.key) for c in COLUMNS]
            if round_:
                values[0] = f"{values[0]}-{round_}"
            sheet.append(values)
        written = min(rows, written + len(plan_rows))
        if written == rows:
            break
    path = WORK / f"findings-{written}.xlsx"
    out.save(path)
    return path


_copies = itertools.count()


def fresh_copy(name: str) -> str:
    # Closing the seeding engine checkpoints SQLite's WAL into the file copied here.
    for engine in flow_context._engines.values():
        engine.dispose()
    target = WORK / f"{name}-{next(_copies)}.db"
    shutil.copyfile(WORK / "seeded.db", target)
    return f"sqlite:///{target}"


def floor(path: Path) -> tuple[float, int]:
    engine = create_engine(fresh_copy("floor"))
    table = Table("floor_rows", MetaData(), *[Column(c.key, String) for c in COLUMNS])
    table.create(engine)
    start = time.perf_counter()
    workbook = load_workbook(path, read_only=True, data_only=True)
    rows_iter = workbook.worksheets[0].iter_rows(values_only=True)
    next(rows_iter)
    records = [{c.key: None if v is None else str(v) for c, v in zip(COLUMNS, values, strict=False)}
               for values in rows_iter]
    workbook.close()
    with engine.begin() as connection:
        connection.execute(insert(table), records)
    return time.perf_counter() - start, len(records)


def use_case(path: Path) -> tuple[float, int]:
    from rectify.flows.intake.importer import import_findings
    from rectify.models.lookup import get_inspection

    url = fresh_copy("use_case")
    start = time.perf_counter()
    with unit_of_work(parse_instant(NOW), url=url) as ctx:
        report = import_findings(ctx, path=path, inspection=get_inspection(ctx.session, INSPECTION), importer=None)
    assert report.written and not report.errors, report.errors[:3]
    return time.perf_counter() - start, len(report.created)


def flow_run(path: Path) -> float:
    from rectify.flows.intake.flow import run_import

    os.environ["RECTIFY_DATABASE_URL"] = fresh_copy("flow")
    start = time.perf_counter()
    report = run_import(path, INSPECTION, parse_instant(NOW))
    assert report.written and not report.errors
    return time.perf_counter() - start


def command(path: Path, api_url: str, *, exit_code: int = 0) -> tuple[float, float]:
    env = {**os.environ, "RECTIFY_DATABASE_URL": fresh_copy("command"), "PREFECT_API_URL": api_url}
    elapsed, peak_mb, _ = run_child([str(BIN / "rectify"), "import", str(path), "--inspection", INSPECTION,
                                     "--as-of", NOW], env, exit_code=exit_code)
    return elapsed, peak_mb


def with_bad_last_row(path: Path) -> Path:
    """The workbook again (streamed), its last row naming a county that does not exist."""
    source = load_workbook(path, read_only=True)
    out = Workbook(write_only=True)
    sheet = out.create_sheet(source.worksheets[0].title)
    county = next(i for i, c in enumerate(COLUMNS) if c.key == "county")
    previous = None
    for values in source.worksheets[0].iter_rows(values_only=True):
        if previous is not None:
            sheet.append(previous)
        previous = list(values)
    previous[county] = "不存在县"
    sheet.append(previous)
    source.close()
    bad = path.with_name(path.stem + "-bad-last-row.xlsx")
    out.save(bad)
    return bad

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="best of how many (the commands: one fewer)")
    args = parser.parse_args()
    path = build_workbook(args.rows)
    floor_s, rows = best_of(args.runs, lambda: floor(path))
    core_s, problems = best_of(args.runs, lambda: use_case(path))
    commands = max(1, args.runs - 1)
    # The command runs first so that the largest child whose memory is counted is the import.
    server, api_url, prefect_start = start_prefect_server()
    try:
        command_s, peak_mb = best_of(commands, lambda: command(path, api_url))
        bad = with_bad_last_row(path)
        rejected_s, rejected_mb = best_of(commands, lambda: command(bad, api_url, exit_code=1))
        os.environ["PREFECT_API_URL"] = api_url
        flow_s = flow_run(path)
    finally:
        stop(server)
    print(f"rows in workbook               {rows:>8}   ({problems} become problems)")
    print(f"floor (openpyxl + Core insert) {floor_s:8.2f} s")
    print(f"import use case                {core_s:8.2f} s   {core_s / floor_s:4.2f}x floor")
    print(f"import-findings flow run       {flow_s:8.2f} s   first flow run in its process")
    print(f"  of which Prefect's own work  {flow_s - core_s:8.2f} s   (not in the ratio)")
    print(f"rectify import (command)       {command_s:8.2f} s   with a Prefect server already running")
    print(f"peak memory of the command     {peak_mb:8.0f} MB")
    print(f"rejected: one bad last row     {rejected_s:8.2f} s   {rejected_s / command_s:4.2f}x the valid command "
          f"(goal 1.5x)   peak {rejected_mb:5.0f} MB (goal 500 MB)")
    print(f"Prefect server start-up        {prefect_start:8.2f} s   (not in the ratios)")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
