"""`rectify doc`: the official documents (公文) as .docx in the GB/T 9704 layout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rectify.flows.cli.support import AsOf, console, edge
from rectify.flows.clock import parse_date, parse_instant
from rectify.flows.context import unit_of_work

doc_app = typer.Typer(help="公文(.docx,党政机关公文格式):整改通知书、督办单、对账销号单、整改情况报告、周通报",
                      no_args_is_help=True)

Unit = Annotated[str, typer.Option("--unit", help="责任单位名称")]
Out = Annotated[Path | None, typer.Option("--out", help="写出的 .docx(默认在当前目录,按公文名称命名)")]


def _done(written) -> None:
    console.print(f"{written.kind.label}已写出:{written.path}"
                  f"(发文字号 {written.reference},列出 {written.problems} 个问题)")


def _clock(ctx):
    from rectify.flows.reports.official import Clock

    return Clock(ctx.now, ctx.calendar, ctx.policy)


@doc_app.command("notice")
@edge
def notice(
    unit: Unit,
    inspection: Annotated[str | None, typer.Option("--inspection", help="只列这次督导交办的问题")] = None,
    day: Annotated[str | None, typer.Option("--day", help="只列这一天交办的问题(默认:最近一次交办的那天)")] = None,
    out: Out = None,
    as_of: AsOf = None,
) -> None:
    """整改通知书:一次交办(一次督导的导入或某一天)交给一个单位的问题、时限和整改要求。"""
    from rectify.flows.reports.official import notice as write
    from rectify.models.lookup import get_inspection, get_unit

    moment = parse_instant(as_of)
    with unit_of_work(moment) as ctx:
        found = get_unit(ctx.session, unit)
        written = write(ctx.session, found, out or Path(f"整改通知书-{found.name}.docx"), clock=_clock(ctx),
                        inspection=get_inspection(ctx.session, inspection) if inspection else None,
                        day=parse_date(day, what="交办日期") if day else None)
    _done(written)


@doc_app.command("urge")
@edge
def urge(
    unit: Unit,
    level: Annotated[str, typer.Option("--level", help="督办级别:黄牌、红牌或挂牌督办")],
    day: Annotated[str | None, typer.Option("--day", help="升级的那一天(默认:最近一次)")] = None,
    out: Out = None,
    as_of: AsOf = None,
) -> None:
    """督办单:某天升级为黄牌、红牌或挂牌督办的问题,逾期天数、办结时限和逾期后果。"""
    from rectify.flows.reports.official import urge as write
    from rectify.models.enums import Supervision
    from rectify.models.errors import InvalidInput
    from rectify.models.lookup import get_unit

    try:
        wanted = Supervision.parse(level)
    except ValueError:
        raise InvalidInput(f"督办级别「{level}」无效,可选:黄牌、红牌、挂牌督办", field="supervision") from None
    moment = parse_instant(as_of)
    with unit_of_work(moment) as ctx:
        found = get_unit(ctx.session, unit)
        written = write(ctx.session, found, wanted, out or Path(f"{wanted.label}督办单-{found.name}.docx"),
                        clock=_clock(ctx), day=parse_date(day, what="升级日期") if day else None)
    _done(written)


@doc_app.command("reconcile")
@edge
def reconcile(
    unit: Unit,
    since: Annotated[str, typer.Option("--since", help="对账期间的第一天")],
    until: Annotated[str, typer.Option("--until", help="对账期间的最后一天")],
    out: Out = None,
    as_of: AsOf = None,
) -> None:
    """对账销号单:一个单位在一段时间内销号的问题、核验人和销号日期,留有签字栏。"""
    from rectify.flows.reports.official import reconcile as write
    from rectify.models.lookup import get_unit

    moment = parse_instant(as_of)
    with unit_of_work(moment) as ctx:
        found = get_unit(ctx.session, unit)
        written = write(ctx.session, found, out or Path(f"对账销号单-{found.name}.docx"), clock=_clock(ctx),
                        since=parse_date(since, what="开始日期"), until=parse_date(until, what="结束日期"))
    _done(written)


@doc_app.command("report")
@edge
def report(
    county: Annotated[str | None, typer.Option("--county", help="一个县(市)的整改情况")] = None,
    inspection: Annotated[str | None, typer.Option("--inspection", help="一次督导的整改情况")] = None,
    out: Out = None,
    as_of: AsOf = None,
) -> None:
    """整改情况报告:统计数字(与 rectify report 相同)、主要问题、整改措施、举一反三和下一步工作。"""
    from rectify.flows.reports.official import report as write
    from rectify.models.lookup import get_county, get_inspection

    moment = parse_instant(as_of)
    with unit_of_work(moment) as ctx:
        written = write(ctx.session, out or Path(f"整改情况报告-{county or inspection}.docx"), clock=_clock(ctx),
                        county=get_county(ctx.session, county) if county else None,
                        inspection=get_inspection(ctx.session, inspection) if inspection else None)
    _done(written)


@doc_app.command("bulletin")
@edge
def bulletin(out: Out = None, as_of: AsOf = None) -> None:
    """周通报(.docx):与 rectify bulletin 相同的排名和名单,只写出,不发送。"""
    from rectify.flows.reports.bulletin import compile_bulletin, write_document

    moment = parse_instant(as_of)
    compiled = compile_bulletin(moment)
    written = write_document(compiled, out or Path(f"整改周通报-{compiled.today}.docx"), now=moment)
    _done(written)
