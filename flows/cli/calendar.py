"""`rectify calendar`: the working-day calendar the deadlines count on."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from rectify.flows.cli.support import (
    AsOf,
    Format,
    console,
    edge,
    print_rows,
)
from rectify.flows.clock import parse_date, parse_instant
from rectify.flows.context import unit_of_work
from rectify.models.calendar import HolidayOverride
from rectify.models.enums import DayKind
from rectify.models.errors import InvalidInput

calendar_app = typer.Typer(help="工作日历(法定节假日与调休)", no_args_is_help=True)


@calendar_app.command("add")
@edge
def calendar_add(
    day: Annotated[str, typer.Argument(help="日期 YYYY-MM-DD")],
    kind: Annotated[str, typer.Argument(help="休(放假)或 班(调休上班)")],
    name: Annotated[str | None, typer.Option("--name", help="节日名称,如 春节")] = None,
    as_of: AsOf = None,
) -> None:
    """录入一天的节假日安排(补充或更正 chinese-calendar 的数据)。"""
    the_day = parse_date(day)
    try:
        the_kind = DayKind.parse(kind)
    except ValueError:
        raise InvalidInput(f"类别「{kind}」无效,应为「休」或「班」") from None
    with unit_of_work(parse_instant(as_of)) as ctx:
        row = ctx.session.get(HolidayOverride, the_day)
        if row is None:
            ctx.session.add(HolidayOverride(day=the_day, kind=the_kind, name=name))
        else:
            row.kind, row.name = the_kind, name
    console.print(f"已录入 {the_day} {the_kind.label}" + (f"({name})" if name else ""))


@calendar_app.command("list")
@edge
def calendar_list(
    year: Annotated[int | None, typer.Option("--year", help="只看此年")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
    as_of: AsOf = None,
) -> None:
    """列出运维录入的节假日安排。"""
    with unit_of_work(parse_instant(as_of)) as ctx:
        rows = [
            {"date": h.day.isoformat(), "kind": h.kind.value, "kind_label": h.kind.label, "name": h.name}
            for h in ctx.session.scalars(select(HolidayOverride).order_by(HolidayOverride.day))
            if year is None or h.day.year == year
        ]
    print_rows(
        rows, [("date", "日期"), ("kind_label", "类别"), ("name", "名称")], fmt=fmt, title="节假日安排(运维录入)"
    )


