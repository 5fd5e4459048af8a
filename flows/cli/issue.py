"""`rectify issue`: one problem's life, step by step."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rectify.flows import issue_actions
from rectify.flows.cli.support import (
    Actor,
    AsOf,
    Format,
    ListFormat,
    console,
    edge,
    print_json,
    print_rows,
)
from rectify.flows.clock import parse_date, parse_instant
from rectify.flows.context import Context, unit_of_work
from rectify.flows.views import issue_to_dict
from rectify.models.calendar import SHANGHAI
from rectify.models.enums import Action, Status
from rectify.models.errors import InvalidInput
from rectify.models.issues import Issue
from rectify.models.lookup import get_county, get_issue, get_unit
from rectify.models.queries import IssueFilter, load_issue_detail, search_issues
from rectify.models.spread import SameItem, same_item_elsewhere
from rectify.models.suspicion import suspicions

issue_app = typer.Typer(help="问题:登记、交办、签收、整改、销号", no_args_is_help=True)


def _spread_text(spread: SameItem) -> str:
    """Where else the sample says to look: the same item found, or not yet checked."""
    def named(places) -> str:
        shown = "、".join(p.village + (f"/{p.household}" if p.household else "") for p in places[:10])
        return shown + (f" 等 {len(places)} 处" if len(places) > 10 else "")

    text = f"本次抽查同类点位 {spread.sampled} 处"
    if spread.found:
        text += f";同一项目另有 {len(spread.found)} 处也发现问题({named(spread.found)})"
    else:
        text += ";其他点位未发现同类问题"
    if spread.unchecked:
        text += f";尚未检查 {len(spread.unchecked)} 处({named(spread.unchecked)}),请一并排查"
    return text


def _show(ctx: Context, issue: Issue, fmt: Format) -> None:
    load_issue_detail(ctx.session, issue)
    data = issue_to_dict(issue, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy)
    warnings = suspicions(ctx.session, issue, ctx.policy)
    data["warnings"] = [w.to_dict() for w in warnings]
    spread = same_item_elsewhere(ctx.session, issue)
    data["same_item"] = spread.as_dict() if spread is not None else None
    if fmt is Format.json:
        print_json(data)
        return
    light = {"red": "[red]红[/]", "yellow": "[yellow]黄[/]", "green": "[green]绿[/]"}.get(
        data["traffic_light"] or "", ""
    )
    console.print(f"[bold]{issue.code}[/] {issue.status.label} {light}")
    place = " / ".join(p for p in (data["county"], data["township"], data["village"]) if p)
    if data["household"]:
        place += f" / {data['household']}({data['household_head']})"
    lines = [
        ("地点", place),
        ("检查项目", f"{data['item']['code']} {data['item']['title']}({data['item']['category']})"),
        ("问题描述", data["description"]),
        ("严重程度", issue.severity.label),
        ("责任单位", data["unit"] or "—"),
        ("协办单位", "、".join(data["assisting_units"]) or "—"),
        ("整改时限", _deadline_text(data)),
        ("督办级别", issue.supervision.label),
    ]
    if data["measures"]:
        lines.append(("整改措施", data["measures"]))
    if data["on_site_note"]:
        lines.append(("现场解决情况", data["on_site_note"]))
    if spread is not None:
        lines.append(("举一反三", _spread_text(spread)))
    for label, value in lines:
        console.print(f"  {label}:{value}")
    for w in warnings:
        console.print(f"  [bold red]核验预警({w.label}):[/]{w.message}")
    table = Table(title="处理经过")
    for col in ("#", "时间(北京)", "操作", "操作人", "状态", "说明", "佐证材料"):
        table.add_column(col, overflow="fold")
    for e in issue.events:
        table.add_row(
            str(e.seq),
            e.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            Action(e.action).label,
            e.actor.name if e.actor else "系统",
            (f"{e.from_status.label} → " if e.from_status and e.from_status != e.to_status else "") + e.to_status.label,
            e.note or "",
            "、".join(f"{x.name}({x.sha256[:8]})" for x in e.evidence),
        )
    console.print(table)


def _deadline_text(data: dict) -> str:
    if not data["deadline"]:
        return "—"
    text = data["deadline"]
    if data["original_deadline"] and data["original_deadline"] != data["deadline"]:
        text += f"(原时限 {data['original_deadline']})"
    left = data["workdays_left"]
    if left is not None:
        text += f",逾期 {-left} 个工作日" if left < 0 else f",剩余 {left} 个工作日"
    if data["extension_requested_until"]:
        text += f";延期申请至 {data['extension_requested_until']} 待审批"
    if data["pause_requested_until"]:
        text += f";暂缓申请至 {data['pause_requested_until']} 待审批"
    if data["paused_until"]:
        text += f";{data['paused_on']} 起暂缓整改至 {data['paused_until']},暂停计时"
    if data["paused_workdays"]:
        text += f"(已暂缓 {data['paused_workdays']} 个工作日,时限已顺延)"
    if data["verify_by"]:  # submitted: the unit's clock stopped, the verifier's runs
        late = data["verification_late_days"]
        text += (f";已提交,核验超时 {late} 个工作日" if late is not None
                 else f";已提交,{data['verify_by']} 前完成核验")
    return text


def _done(ctx: Context, issue: Issue, fmt: Format, verb: str) -> None:
    if fmt is Format.json:
        _show(ctx, issue, fmt)
    else:
        console.print(f"{verb}:[bold]{issue.code}[/],当前状态「{issue.status.label}」")


def _act(as_of: str | None, fmt: Format, verb, use_case, code: str, **kwargs) -> None:
    """Run one use case on one problem in one transaction and report it."""
    with unit_of_work(parse_instant(as_of)) as ctx:
        issue = use_case(ctx, code, **kwargs)
        _done(ctx, issue, fmt, verb(issue) if callable(verb) else verb)


def _date(text: str | None, what: str):
    return parse_date(text, what=what) if text else None


Fmt = Annotated[Format, typer.Option("--format", help="table 或 json")]
Code = Annotated[str, typer.Argument(help="问题编号,如 GZ-2016-00042")]
Evidence = Annotated[list[Path], typer.Option("--evidence", help="佐证材料文件,可多次指定")]


@issue_app.command("add")
@edge
def issue_add(
    county: Annotated[str, typer.Option("--county", help="县(市)")],
    item: Annotated[str, typer.Option("--item", help="检查项目编号或名称,如 H06 或 安全住房")],
    desc: Annotated[str, typer.Option("--desc", help="问题描述")],
    severity: Annotated[str, typer.Option("--severity", help="一般 / 较重 / 严重")],
    actor: Actor,
    township: Annotated[str | None, typer.Option("--township", help="乡(镇)")] = None,
    village: Annotated[str | None, typer.Option("--village", help="村")] = None,
    household: Annotated[str | None, typer.Option("--household", help="户:建档立卡编号或户主姓名")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="责任单位(指定则直接交办)")] = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="整改时限 YYYY-MM-DD(默认按严重程度)")] = None,
    on_site: Annotated[str | None, typer.Option("--on-site", help="现场解决情况(现场解决时填写)")] = None,
    cosign: Annotated[str | None, typer.Option("--cosign", help="会签的督导组组长")] = None,
    inspection: Annotated[str | None, typer.Option("--inspection", help="所属督导")] = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """登记一个问题:现场解决(需组长会签)、直接交办(指定 --unit)或待交办。"""
    with unit_of_work(parse_instant(as_of)) as ctx:
        issue = issue_actions.record(
            ctx,
            actor=actor,
            county=county,
            item=item,
            description=desc,
            severity=severity,
            township=township,
            village=village,
            household=household,
            unit=unit,
            deadline=_date(deadline, "整改时限"),
            on_site=on_site,
            cosign=cosign,
            inspection=inspection,
        )
        _done(ctx, issue, fmt, "已登记")


@issue_app.command("list")
@edge
def issue_list(
    status: Annotated[str | None, typer.Option("--status", help="状态,如 assigned 或 已交办")] = None,
    county: Annotated[str | None, typer.Option("--county", help="县(市)")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="责任单位")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="只看已逾期的")] = False,
    fmt: Annotated[ListFormat, typer.Option("--format", help="table / json / csv")] = ListFormat.table,
    as_of: AsOf = None,
) -> None:
    """列出问题(按整改时限排序)。"""
    with unit_of_work(parse_instant(as_of)) as ctx:
        s = ctx.session
        the_status = None
        if status:
            try:
                the_status = Status.parse(status)
            except ValueError:
                choices = "、".join(f"{x.value}({x.label})" for x in Status)
                raise InvalidInput(f"状态「{status}」无效,应为:{choices}") from None
        wanted = IssueFilter(status=the_status, county_id=get_county(s, county).id if county else None,
                             unit_id=get_unit(s, unit).id if unit else None, overdue=overdue)
        issues, _ = search_issues(s, wanted, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy, limit=None)
        rows = [
            issue_to_dict(i, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy, with_events=False)
            for i in issues
        ]
    for row in rows:
        row["item_title"] = row["item"]["title"]
        row["light"] = {"red": "红", "yellow": "黄", "green": "绿"}.get(row["traffic_light"] or "", "")
    columns = [
        ("code", "问题编号"),
        ("status_label", "状态"),
        ("light", "灯"),
        ("county", "县(市)"),
        ("village", "村"),
        ("item_title", "检查项目"),
        ("unit", "责任单位"),
        ("deadline", "整改时限"),
        ("workdays_left", "剩余工作日"),
    ]
    if fmt is ListFormat.csv:
        columns.append(("description", "问题描述"))  # the screen table leaves it to `issue show`
    if fmt is ListFormat.json:
        for row in rows:
            del row["item_title"], row["light"]
    print_rows(rows, columns, fmt=fmt, title="问题清单")


@issue_app.command("show")
@edge
def issue_show(code: Code, fmt: Fmt = Format.table, as_of: AsOf = None) -> None:
    """显示一个问题及其全部处理经过。"""
    with unit_of_work(parse_instant(as_of)) as ctx:
        _show(ctx, get_issue(ctx.session, code), fmt)


# The lifecycle steps (assign, sign, ... escalate) register themselves on issue_app.
from rectify.flows.cli import issue_steps  # noqa: E402,F401
