"""`rectify report`: the figures for any slice, as a table, JSON, CSV or a workbook."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rectify.flows.cli.support import AsOf, console, edge, flow_run, print_json, print_rows, print_table
from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.flows.reports.columns import COLUMNS, RATES, TARGET, shown
from rectify.models.calendar import SHANGHAI, moment_text
from rectify.models.errors import InvalidInput

app = typer.Typer()

class By(StrEnum):
    county = "county"
    township = "township"
    village = "village"
    unit = "unit"
    category = "category"
    inspection = "inspection"
    severity = "severity"
    leader = "leader"


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


@app.command()
@edge
def report(
    by: Annotated[By, typer.Option("--by", help="按什么统计")] = By.county,
    county: Annotated[str | None, typer.Option("--county", help="只统计一个县(市)")] = None,
    since: Annotated[str | None, typer.Option("--since", help="只统计此时刻之后登记的问题")] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="输出格式")] = ReportFormat.table,
    out: Annotated[Path | None, typer.Option("--out", help="--format xlsx 时写出的文件")] = None,
    analyses: Annotated[bool, typer.Option(
        "--analyses", help="改为列出已申请销号问题的原因分析、举一反三、建章立制")] = False,
    as_of: AsOf = None,
) -> None:
    """整改统计:销号率、整改率、按期销号率、逾期、核验超时、签收、延期、退回、反弹;第 1 名最好。"""
    from rectify.models.estimates import rank_bands
    from rectify.models.figures import figures
    from rectify.models.lookup import get_county

    moment = parse_instant(as_of)
    if analyses:
        return _analyses(moment, county, fmt)
    with unit_of_work(moment) as ctx:
        wanted = get_county(ctx.session, county) if county else None
        found = figures(ctx.session, by=by.value, as_of=moment, calendar=ctx.calendar, policy=ctx.policy,
                        county=wanted, since=parse_instant(since) if since else None)
        bands = rank_bands(found)
        rows = [r.as_dict() for r in found]
        title = f"整改统计(按{_BY_LABEL[by]}{',' + wanted.name if wanted else ''},截至 {moment_text(moment)})"
    if fmt is ReportFormat.json:
        print_json([{**r, "uncertainty": bands[r["key"]].as_dict()} for r in rows])
    elif fmt is ReportFormat.csv:
        print_rows([{k: shown(k, r[k]) for k, _ in COLUMNS} for r in rows], COLUMNS, fmt="csv")
    elif fmt is ReportFormat.xlsx:
        path = out or Path(f"整改统计-{by.value}.xlsx")
        _workbook(rows, title, path)
        console.print(f"已写出 {path}")
    else:
        _table(rows, title)
        _uncertainty(list(bands.values()))


ANALYSIS_COLUMNS = [("code", "问题编号"), ("place", "地点"), ("item", "问题"), ("unit", "责任单位"), ("status", "状态"),
                    ("cause", "原因分析"), ("spread", "举一反三"), ("rules", "建章立制")]


def _analyses(moment: datetime, county: str | None, fmt: ReportFormat) -> None:
    """What the units wrote when they submitted: 原因分析, 举一反三, 建章立制."""
    from rectify.models.lookup import get_county
    from rectify.models.spread import analyses

    with unit_of_work(moment) as ctx:
        wanted = get_county(ctx.session, county) if county else None
        rows = [a.as_dict() for a in analyses(ctx.session, county_id=wanted.id if wanted else None)]
    if fmt is ReportFormat.xlsx:
        raise InvalidInput("--analyses 只支持 table、json、csv 格式")
    print_rows(rows, ANALYSIS_COLUMNS, fmt=fmt.value, title=f"原因分析、举一反三与建章立制({len(rows)} 个问题)")


def _uncertainty(bands) -> None:
    """The ranking's uncertainty: each closure rate's 95 % interval, the ranks it could hold."""
    cells = [[b.key, str(b.rank), b.interval, b.ranks,
              "可区分" if b.apart_from_next else ("—" if i == len(bands) - 1 else "无法区分"),
              "问题不足 10 个" if b.too_small else ""] for i, b in enumerate(bands)]
    print_table("排名的不确定性(销号率 95% 区间)",
                ["名称", "名次", "销号率 95% 区间", "可能的名次", "与下一名", "提示"], cells,
                right=[False, True, False, True, False, False])
    console.print("区间按各自的问题数计算;两者区间重叠,先后可能只是偶然(docs/reports.md)")


@app.command()
@edge
def estimates(
    county: Annotated[str | None, typer.Option("--county", help="只推算一个县(市)")] = None,
    inspection: Annotated[str | None, typer.Option("--inspection", help="只用这次督导的检查结果")] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="输出格式(table 或 json)")] = ReportFormat.table,
    as_of: AsOf = None,
) -> None:
    """抽样推算:由抽查的村、户推算全县各类问题的村、户比例及 95% 区间,每百项问题;样本太少的标明。"""
    from rectify.models.estimates import estimates as estimate
    from rectify.models.estimates import interval_text
    from rectify.models.lookup import get_county, get_inspection

    moment = parse_instant(as_of)
    with unit_of_work(moment) as ctx:
        found = estimate(ctx.session, as_of=moment, county=get_county(ctx.session, county) if county else None,
                         inspection=get_inspection(ctx.session, inspection) if inspection else None)
    if fmt is ReportFormat.json:
        print_json([e.as_dict() for e in found])
        return

    def share(e) -> str:
        return "—" if e.value is None else f"{e.value * 100:.1f}%"

    def small(*parts) -> str:
        return "样本太少" if any(p.too_small for p in parts) else ""

    print_table(f"每百项问题(截至 {moment_text(moment)})",
                ["县(市)", "检查项数", "每百项问题", "95% 区间", "设计效应", "提示"],
                [[e.county, str(e.per_hundred.units),
                  "—" if e.per_hundred.value is None else f"{e.per_hundred.value:.1f}",
                  interval_text(e.per_hundred, percent=False),
                  "—" if e.per_hundred.deff is None else f"{e.per_hundred.deff:.2f}", small(e.per_hundred)]
                 for e in found], right=[False, True, True, False, True, False])
    print_table("各类问题的村、户比例(推算到全县)",
                ["县(市)", "类别", "抽查村", "有问题的村", "95% 区间", "抽查户", "有问题的户", "95% 区间", "设计效应",
                 "提示"],
                [[c.county, c.category, str(c.villages.units), share(c.villages), interval_text(c.villages),
                  str(c.households.units), share(c.households), interval_text(c.households),
                  "—" if c.households.deff is None else f"{c.households.deff:.2f}", small(c.villages, c.households)]
                 for e in found for c in e.categories],
                right=[False, False, True, True, False, True, True, False, True, False])
    console.print("村的比例:抽中的村为简单随机样本,Wilson 区间;户的比例:先抽村再抽户的两阶段样本,比率估计、"
                  "按村间差异算方差(含抽村的有限总体校正),区间用有效样本量(户数 ÷ 设计效应)的 Wilson 区间。")


class BurdenBy(StrEnum):
    village = "village"
    household = "household"
    unit = "unit"


@app.command()
@edge
def burden(
    by: Annotated[BurdenBy, typer.Option("--by", help="按村、户或责任单位")] = BurdenBy.unit,
    county: Annotated[str | None, typer.Option("--county", help="只看一个县(市)")] = None,
    since: Annotated[str | None, typer.Option("--since", help="期间的第一天(默认:30 天前)")] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="输出格式(table、json 或 csv)")] = ReportFormat.table,
    as_of: AsOf = None,
) -> None:
    """基层负担:一段时间内各村、户被督导的次数,各单位收到的佐证要求和提醒;超过政策上限的标明。"""
    from datetime import timedelta

    from rectify.flows.clock import parse_date
    from rectify.models.burden import place_burden, unit_burden
    from rectify.models.calendar import local_date
    from rectify.models.lookup import get_county

    moment = parse_instant(as_of)
    first = parse_date(since, what="开始日期") if since else local_date(moment) - timedelta(days=30)
    with unit_of_work(moment) as ctx:
        wanted = get_county(ctx.session, county) if county else None
        if by is BurdenBy.unit:
            start = datetime.combine(first, datetime.min.time(), SHANGHAI)
            loads = unit_burden(ctx.session, since=start, until=moment, policy=ctx.policy, county=wanted)
            columns = [("key", "单位"), ("county", "县(市)"), ("evidence_requests", "佐证要求"),
                       ("reminders", "收到的提醒"), ("busiest_day", "单日最多"), ("over_cap", "超过上限")]
            cap = f"每个单位每天最多 {ctx.policy.reminders_per_unit_per_day} 条提醒"
        else:
            household = by is BurdenBy.household
            loads = place_burden(ctx.session, since=first, until=local_date(moment), household=household,
                                 policy=ctx.policy, county=wanted)
            columns = [("key", "户" if household else "村"), ("county", "县(市)"), ("visits", "督导次数"),
                       ("over_cap", "超过上限")]
            cap = (f"同一批次每户最多 {ctx.policy.visits_per_household_per_campaign} 次" if household
                   else f"同一批次每村最多 {ctx.policy.visits_per_village_per_campaign} 次")
    rows = [{**load.as_dict(), "over_cap": "是" if load.over_cap else ""} if fmt is ReportFormat.table
            else load.as_dict() for load in loads]
    if fmt is ReportFormat.json:
        print_json(rows)
        return
    print_rows(rows, columns, fmt="csv" if fmt is ReportFormat.csv else "table",
               title=f"基层负担({first} 至 {moment_text(moment)};上限:{cap})")


_BY_LABEL = {"county": "县(市)", "township": "乡(镇)", "village": "村", "unit": "责任单位", "category": "检查类别",
             "inspection": "督导", "severity": "严重程度", "leader": "联系领导"}


def _table(rows: list[dict], title: str) -> None:
    cells = []
    for row in rows:
        line = []
        for key, _ in COLUMNS:
            text = shown(key, row[key])
            if key == "overdue" and row[key]:
                text = f"[red]{text}[/]"
            elif key in RATES and row[key] is not None and row[key] >= TARGET:
                text = f"[green]{text}[/]"
            line.append(text)
        cells.append(line)
    print_table(title, [label for _, label in COLUMNS], cells, right=[i > 0 for i in range(len(COLUMNS))])
    console.print("— 表示分母为零,无此比率;名次:第 1 名最好(销号率最高,其次按期销号率、逾期最少)")


def _workbook(rows: list[dict], title: str, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from rectify.flows.reports.cells import append_row

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "整改统计"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([label for _, label in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        append_row(sheet, ["—" if row[k] is None else row[k] for k, _ in COLUMNS])
    for index, (key, _) in enumerate(COLUMNS, start=1):
        if key in RATES:
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                if isinstance(cell.value, float):
                    cell.number_format = "0.0%"
    sheet.freeze_panes = "B3"
    sheet.column_dimensions["A"].width = 24
    workbook.save(path)


@app.command()
@edge
def ledger(
    out: Annotated[Path, typer.Option("--out", help="写出的台账 .xlsx")] = Path("整改台账.xlsx"),
    county: Annotated[str | None, typer.Option("--county", help="只写一个县(市)")] = None,
    as_of: AsOf = None,
) -> None:
    """整改台账:每县一张表(问题、措施、时限、进展、状态、红黄绿灯、销号与核验人),加汇总表。"""
    from rectify.flows.reports.ledger import write_ledger
    from rectify.models.lookup import get_county

    moment = parse_instant(as_of)
    with unit_of_work(moment) as ctx:
        wanted = get_county(ctx.session, county) if county else None
        result = write_ledger(ctx.session, out, now=moment, calendar=ctx.calendar, policy=ctx.policy, county=wanted)
    rows = sum(result.counties.values())
    console.print(f"整改台账已写出:{result.path}({len(result.counties)} 个县、{rows} 个问题,另有汇总表)")


@app.command()
@edge
def bulletin(as_of: AsOf = None) -> None:
    """运行一次周通报(Prefect 流程 weekly-bulletin):县(市)排名、逾期最久的问题、督办最多的单位,写出并发送给领导。"""
    from rectify.flows.reports.bulletin import run_bulletin

    with flow_run("weekly-bulletin"):
        result = run_bulletin(parse_instant(as_of))
    console.print(f"周通报({result.week})已写出:{result.markdown} 与 {result.workbook}")
    console.print(f"已发送 {result.sent} 人" + (f",失败 {len(result.failed)} 人" if result.failed else ""))
    for failure in result.failed:
        console.print(f"[red]发送失败[/] {failure}")


@app.command()
@edge
def feedback(
    inspection: Annotated[str, typer.Option("--inspection", help="督导名称")],
    out: Annotated[Path, typer.Option("--out", help="写出的反馈意见(Markdown 文本)")] = Path("反馈意见.md"),
    as_of: AsOf = None,
) -> None:
    """督导反馈意见:覆盖情况、按类别的主要问题(附例)、典型经验、各责任单位的整改要求与时限。"""
    from rectify.flows.reports.feedback import write_feedback
    from rectify.models.lookup import get_inspection

    moment = parse_instant(as_of)
    with unit_of_work(moment) as ctx:
        write_feedback(ctx.session, get_inspection(ctx.session, inspection), out, now=moment, calendar=ctx.calendar,
                       policy=ctx.policy)
    console.print(f"反馈意见已写出:{out}")
