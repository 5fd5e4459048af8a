"""`rectify catalogue|unit|place list`: the reference data as it stands."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from rectify.flows.cli.support import (
    AsOf,
    Format,
    edge,
    print_rows,
)
from rectify.flows.clock import parse_instant
from rectify.flows.context import Context, unit_of_work
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Level
from rectify.models.errors import InvalidInput
from rectify.models.lookup import get_county, get_township, get_village
from rectify.models.places import Household, Township, Village
from rectify.models.policy import PolicySetting
from rectify.models.queries import units_of_county

catalogue_app = typer.Typer(help="检查项目目录", no_args_is_help=True)
unit_app = typer.Typer(help="责任单位", no_args_is_help=True)
place_app = typer.Typer(help="县、乡、村、户", no_args_is_help=True)


@catalogue_app.command("list")
@edge
def catalogue_list(
    level: Annotated[str | None, typer.Option("--level", help="县 / 村 / 户")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
    as_of: AsOf = None,
) -> None:
    """列出检查项目。"""
    with unit_of_work(parse_instant(as_of)) as ctx:
        query = select(CheckItem).where(CheckItem.active.is_(True)).order_by(CheckItem.code)
        if level:
            try:
                query = query.where(CheckItem.level == Level.parse(level))
            except ValueError:
                raise InvalidInput(f"层级「{level}」无效,应为 县、村 或 户") from None
        rows = [
            {
                "code": i.code,
                "level": i.level.value,
                "level_label": i.level.label,
                "category": i.category,
                "title": i.title,
                "standard": i.standard,
            }
            for i in ctx.session.scalars(query)
        ]
    print_rows(
        rows,
        [("code", "编号"), ("level_label", "层级"), ("category", "类别"), ("title", "项目"), ("standard", "标准")],
        fmt=fmt,
        title="检查项目目录",
    )


@unit_app.command("list")
@edge
def unit_list(
    county: Annotated[str | None, typer.Option("--county", help="只看此县(市)的单位")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
    as_of: AsOf = None,
) -> None:
    """列出责任单位。"""
    with unit_of_work(parse_instant(as_of)) as ctx:
        county_id = get_county(ctx.session, county).id if county else None
        rows = [
            {
                "name": u.name,
                "kind": u.kind.value,
                "kind_label": u.kind.label,
                "county": u.county.name if u.county else None,
            }
            for u in units_of_county(ctx.session, county_id)
        ]
    print_rows(rows, [("name", "单位"), ("kind_label", "类别"), ("county", "所属县(市)")], fmt=fmt, title="责任单位")


def _registry_note(ctx: Context) -> str:
    synthetic = ctx.session.get(PolicySetting, "registry_synthetic")
    return "(合成演示数据)" if synthetic is not None and synthetic.value else ""


@place_app.command("list")
@edge
def place_list(
    county: Annotated[str, typer.Option("--county", help="县(市)")],
    township: Annotated[str | None, typer.Option("--township", help="乡(镇):列出其村")] = None,
    village: Annotated[str | None, typer.Option("--village", help="村:列出其户")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
    as_of: AsOf = None,
) -> None:
    """列出一个县的乡(镇),一个乡的村,或一个村的户。"""
    with unit_of_work(parse_instant(as_of)) as ctx:
        s = ctx.session
        the_county = get_county(s, county)
        the_township = get_township(s, the_county, township) if township else None
        note = _registry_note(ctx)
        if village:
            the_village = get_village(s, the_county, village, the_township)
            households = s.scalars(
                select(Household).where(Household.village_id == the_village.id).order_by(Household.registry_no)
            )
            rows = [
                {
                    "registry_no": h.registry_no,
                    "head_name": h.head_name,
                    "size": h.size,
                    "planned_exit_year": h.planned_exit_year,
                }
                for h in households
            ]
            columns = [
                ("registry_no", "建档立卡编号"),
                ("head_name", "户主"),
                ("size", "人口"),
                ("planned_exit_year", "计划脱贫年度"),
            ]
            title = f"{the_county.name}{the_village.township.name}{the_village.name}的贫困户{note}"
        elif the_township is not None:
            villages = s.scalars(select(Village).where(Village.township_id == the_township.id).order_by(Village.name))
            rows = [_village_row(v) for v in villages]
            columns = _VILLAGE_COLUMNS
            title = f"{the_county.name}{the_township.name}的村{note}"
        else:
            townships = s.scalars(select(Township).where(Township.county_id == the_county.id).order_by(Township.name))
            rows = []
            for t in townships:
                rows += [_village_row(v) for v in sorted(t.villages, key=lambda v: v.name)]
            columns = _VILLAGE_COLUMNS
            title = f"{the_county.name}的乡(镇)和村{note}"
    print_rows(rows, columns, fmt=fmt, title=title)


_VILLAGE_COLUMNS = [
    ("township", "乡(镇)"),
    ("village", "村"),
    ("planned_exit_year", "计划退出年度"),
    ("assisting_unit", "帮扶单位"),
    ("households", "贫困户数"),
]


def _village_row(v: Village) -> dict:
    return {
        "township": v.township.name,
        "village": v.name,
        "planned_exit_year": v.planned_exit_year,
        "assisting_unit": v.assisting_unit.name if v.assisting_unit else None,
        "first_secretary": v.first_secretary,
        "households": len(v.households),
    }


