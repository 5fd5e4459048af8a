"""`rectify db` and `rectify seed`: the schema and the reference data."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from rectify.flows.cli.support import (
    AsOf,
    console,
    edge,
)
from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.models import tallies
from rectify.models.tallies import IssueTally

db_app = typer.Typer(help="数据库结构(迁移)", no_args_is_help=True)
app = typer.Typer()


@db_app.command("upgrade")
@edge
def db_upgrade(revision: Annotated[str, typer.Argument(help="目标版本")] = "head") -> None:
    """把数据库结构升级到最新(首次使用时创建)。"""
    from rectify.models import migrate

    migrate.upgrade(revision=revision)
    console.print("[green]数据库已升级到最新结构[/]")


@db_app.command("recount")
@edge
def db_recount() -> None:
    """重新统计各切片的汇总数(issue_tallies)。数据库触发器平时自动维护它们;
    仅在绕过触发器批量导入或恢复问题表之后需要。"""
    with unit_of_work(parse_instant(None)) as ctx:
        tallies.refill(ctx.session.connection())
        problems = ctx.session.scalar(select(func.coalesce(func.sum(IssueTally.n), 0)).where(
            IssueTally.dimension == "county", IssueTally.kind == "state"))
    console.print(f"[green]已重新统计:{problems} 个问题(不含已撤销)[/]")


@app.command()
@edge
def seed(
    synthetic: Annotated[
        bool, typer.Option("--synthetic", help="同时载入合成的演示登记数据(281 个拟退出村等)")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """载入基础数据:县(市)、县级政府单位、检查项目目录、时限与提醒政策、节假日表。重复运行不会重复写入。"""
    from rectify.seeds.loader import load_reference
    from rectify.seeds.synthetic import load_synthetic

    with unit_of_work(parse_instant(as_of)) as ctx:
        report = load_reference(ctx.session)
        if synthetic:
            load_synthetic(ctx.session, report)
    table = Table(title="基础数据载入结果")
    table.add_column("表")
    table.add_column("新增", justify="right")
    table.add_column("更新", justify="right")
    for name, count in report.counts.items():
        table.add_row(name, str(count.added), str(count.updated))
    console.print(table)
    console.print("有变化" if report.changed else "[green]无变化(已是最新)[/]")
    if synthetic:
        console.print("[yellow]注意:登记数据(乡、村、户、帮扶单位、用户)为合成演示数据,不是真实数据[/]")

