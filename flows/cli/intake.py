"""Intake commands: `plan`, `coverage`, `template` and `import` (merged into the top level)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rectify.flows.cli.support import AsOf, ListFormat, console, edge, err_console, flow_run, print_json, print_rows
from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.models.errors import RegistrarUnknown

app = typer.Typer()


@app.command()
@edge
def plan(
    inspection: Annotated[str, typer.Option("--inspection", help="督导名称(新名称即新建)")],
    out: Annotated[Path, typer.Option("--out", help="写出的检查表 .xlsx")],
    county: Annotated[str | None, typer.Option("--county", help="县(市);省略则全州各县")] = None,
    villages: Annotated[int, typer.Option("--villages", help="每县抽取的贫困村数")] = 10,
    households: Annotated[int, typer.Option("--households", help="每村抽取的贫困户数")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="随机种子(相同种子得到相同抽样)")] = 2016,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="督导批次(同批次内不重复抽户);默认「当年脱贫攻坚督导」")
    ] = None,
    leader: Annotated[str | None, typer.Option("--leader", help="督导组组长(用户名)")] = None,
    from_findings: Annotated[str | None, typer.Option(
        "--from-findings",
        help="举一反三:按这次督导发现的问题,抽取未抽查过的最相似的村、户,只查发现过的问题类型")] = None,
    as_of: AsOf = None,
) -> None:
    """为一次督导抽样(优先当年拟退出且本批次未覆盖的村,同批次不重复抽户)并写出现场检查表。
    用 --from-findings 时为举一反三抽样:同乡镇、同退出年度、同帮扶单位的村最优先。"""
    from rectify.flows.intake.plan import make_followup_plan, make_plan

    with unit_of_work(parse_instant(as_of)) as ctx:
        if from_findings:
            result = make_followup_plan(ctx, source=from_findings, inspection=inspection, villages=villages,
                                        households=households, out=out, leader=leader)
        else:
            result = make_plan(ctx, inspection=inspection, county=county, villages=villages, households=households,
                               seed=seed, out=out, campaign=campaign, leader=leader)
        table = Table(title=f"督导「{result.inspection.name}」抽样({result.inspection.campaign})")
        for label in ("县(市)", "抽样村", "抽样户", "其中当年拟退出村"):
            table.add_column(label, justify="right" if label != "县(市)" else "left")
        for sample in result.samples:
            this_year = sum(1 for v in sample.villages if v.planned_exit_year == ctx.today.year)
            table.add_row(sample.county.name, str(len(sample.villages)), str(sample.household_count), str(this_year))
        console.print(table)
        if any(s.reused for s in result.samples):
            console.print("[yellow]此督导已有抽样,沿用原抽样名单[/]")
        counts = "、".join(f"{level} {result.rows[level]} 行" for level in ("县", "村", "户"))
        console.print(f"检查表已写出:{out}({counts})")


@app.command()
@edge
def coverage(
    county: Annotated[str | None, typer.Option("--county", help="只看一个县(市),并列出未覆盖的村")] = None,
    year: Annotated[int | None, typer.Option("--year", help="拟退出年度;默认当年")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", help="只算此督导批次")] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", help="输出格式")] = ListFormat.table,
    as_of: AsOf = None,
) -> None:
    """督导全覆盖:当年拟退出村中,哪些还没有任何督导抽到或检查过。"""
    from dataclasses import asdict

    from rectify.models.lookup import get_county
    from rectify.models.sampling import coverage as village_coverage
    from rectify.models.sampling import coverage_by_county

    with unit_of_work(parse_instant(as_of)) as ctx:
        wanted = get_county(ctx.session, county) if county else None
        year = year or ctx.today.year
        villages = village_coverage(ctx.session, year=year, county=wanted, campaign=campaign)
    rows: list[dict[str, object]]
    if wanted is not None:
        rows = [{"county": v.county, "township": v.township, "village": v.village,
                 "sampled": "是" if v.sampled else "否",
                 "inspected": v.inspected} for v in villages if not v.inspected]
        print_rows(rows, [("township", "乡(镇)"), ("village", "村"), ("sampled", "已抽样待检查")], fmt=fmt.value,
                   title=f"{wanted.name} {year} 年拟退出村中尚未检查的村")
        return
    rows = [asdict(row) for row in coverage_by_county(villages)]
    print_rows(rows, [("county", "县(市)"), ("planned", "拟退出村"), ("inspected", "已检查"),
                      ("sampled_only", "已抽样未检查"), ("uncovered", "未覆盖")], fmt=fmt.value,
               title=f"{year} 年拟退出村督导覆盖情况")


@app.command()
@edge
def template(
    out: Annotated[Path, typer.Option("--out", help="写出的空白模板 .xlsx")] = Path("督导发现问题清单.xlsx"),
) -> None:
    """写出空白的发现问题清单模板(含填写说明)。"""
    from rectify.flows.intake.workbooks import write_template

    write_template(out)
    console.print(f"模板已写出:{out}")


@app.command("import")
@edge
def import_(
    file: Annotated[Path, typer.Argument(help="发现问题清单(.xlsx 或 .csv)")],
    inspection: Annotated[str, typer.Option("--inspection", help="督导名称")],
    actor: Annotated[str | None, typer.Option("--as", help="导入人;默认为检查人,其次为督导组长")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="写入有效行,无效行另存为「未导入」文件")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验,不写入")] = False,
    errors_out: Annotated[Path | None, typer.Option("--errors-out", help="错误说明文件的路径")] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", help="输出格式")] = ListFormat.table,
    as_of: AsOf = None,
) -> None:
    """导入督导发现问题(Prefect 流程 import-findings):默认全部正确才写入,否则一行也不写。"""
    from rectify.flows.intake.flow import run_import

    with flow_run("import-findings"):
        report = run_import(file, inspection, parse_instant(as_of), actor=actor, skip_invalid=skip_invalid,
                            dry_run=dry_run, errors_out=errors_out)
    if fmt is ListFormat.json:
        print_json(_report_dict(report))
    else:
        _print_report(report, dry_run=dry_run)
    if report.fatal or report.errors:
        raise typer.Exit(1)


def _report_dict(report) -> dict:
    return {
        "file": report.file, "inspection": report.inspection, "written": report.written, "fatal": report.fatal,
        "rows_read": report.rows_read, "created": report.created, "passed": report.passed,
        "good_practice": report.good_practice, "unchanged": report.unchanged, "unfilled": report.unfilled,
        "notices": report.notices, "errors_file": report.errors_file,
        "by_county_status": [{"county": c, "status": s.value, "count": n}
                             for (c, s), n in sorted(report.by_county_status.items())],
        "errors": [{"sheet": e.sheet, "row": e.row, "column": e.letter, "header": e.column, "value":
                    None if e.value is None else str(e.value), "message": e.message} for e in report.errors],
    }


def _print_report(report, *, dry_run: bool) -> None:
    if report.fatal:
        err_console.print(f"[bold red]错误:[/]{report.fatal}")
        if isinstance(report.fatal_error, RegistrarUnknown):
            err_console.print("请用 --as 指定导入人,或在抽样时用 rectify plan --leader 指定督导组组长")
        return
    for warning in report.warnings:
        err_console.print(f"[yellow]注意:[/]{warning}")
    for error in report.errors:
        err_console.print(f"[red]✗[/] {error}")
    if report.errors and not report.written:
        count = report.rejected_rows or len(report.errors)
        err_console.print(f"[bold red]导入被拒绝:[/]{count} 处错误,未写入任何数据。"
                          + (f"错误已标注在 {report.errors_file}" if report.errors_file else ""))
        return
    if report.by_county_status:
        table = Table(title="新建问题(按县、状态)")
        table.add_column("县(市)")
        table.add_column("状态")
        table.add_column("问题数", justify="right")
        for (county, status), n in sorted(report.by_county_status.items()):
            table.add_row(county, status.label, str(n))
        console.print(table)
    verb = "校验通过(未写入)" if dry_run else "导入完成"
    console.print(f"[green]{verb}[/]:读取 {report.rows_read} 行;新建问题 {len(report.created)} 个,检查符合 "
                  f"{report.passed} 项,典型经验 {report.good_practice} 条;此前已导入 {report.unchanged} 行"
                  f"(不再重复);未填结果 {report.unfilled} 行;排队交办通知 {report.notices} 个单位")
    if report.written and report.errors:
        err_console.print(f"[yellow]{report.rejected_rows} 行未导入,已另存为 {report.errors_file}[/]")
