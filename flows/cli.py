"""The `rectify` command line: thin commands over the use cases, output in Chinese."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from rectify.flows import issue_actions
from rectify.flows.cli_intake import app as intake_app
from rectify.flows.cli_notify import app as notify_app
from rectify.flows.cli_report import app as report_app
from rectify.flows.cli_serve import app as serve_app
from rectify.flows.cli_support import (
    Actor,
    AsOf,
    ExpectVersion,
    Format,
    ListFormat,
    console,
    edge,
    print_json,
    print_rows,
)
from rectify.flows.cli_verify import app as verify_app
from rectify.flows.cli_web import app as web_app
from rectify.flows.cli_web import user_app as account_app
from rectify.flows.clock import parse_date, parse_instant
from rectify.flows.context import Context, unit_of_work
from rectify.flows.views import issue_to_dict
from rectify.models import migrate, tallies
from rectify.models.calendar import SHANGHAI, HolidayOverride
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Action, DayKind, Level, Role, Status
from rectify.models.errors import InvalidInput
from rectify.models.issues import Issue
from rectify.models.lookup import find_user, get_county, get_issue, get_township, get_unit, get_village
from rectify.models.org import User
from rectify.models.places import Household, Township, Village
from rectify.models.policy import PolicySetting
from rectify.models.queries import IssueFilter, load_issue_detail, search_issues, units_of_county
from rectify.models.suspicion import suspicions
from rectify.models.tallies import IssueTally

app = typer.Typer(
    help="rectify:督查发现问题整改跟踪(交办、签收、整改、核验销号、提醒与督办)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _start() -> None:
    # The modules loaded so far live as long as the command: keep the garbage collector from
    # walking them again and again while a report or an import makes many small objects.
    gc.freeze()


db_app = typer.Typer(help="数据库结构(迁移)", no_args_is_help=True)
user_app = typer.Typer(help="用户", no_args_is_help=True)
catalogue_app = typer.Typer(help="检查项目目录", no_args_is_help=True)
unit_app = typer.Typer(help="责任单位", no_args_is_help=True)
place_app = typer.Typer(help="县、乡、村、户", no_args_is_help=True)
issue_app = typer.Typer(help="问题:登记、交办、签收、整改、销号", no_args_is_help=True)
calendar_app = typer.Typer(help="工作日历(法定节假日与调休)", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(unit_app, name="unit")
app.add_typer(place_app, name="place")
app.add_typer(issue_app, name="issue")
app.add_typer(calendar_app, name="calendar")
app.add_typer(intake_app)
app.add_typer(notify_app)
app.add_typer(report_app)
app.add_typer(serve_app)
app.add_typer(verify_app)
app.add_typer(web_app)
user_app.add_typer(account_app)


# --- database and reference data -------------------------------------------------------


@db_app.command("upgrade")
@edge
def db_upgrade(revision: Annotated[str, typer.Argument(help="目标版本")] = "head") -> None:
    """把数据库结构升级到最新(首次使用时创建)。"""
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


# --- users, units, places, catalogue ----------------------------------------------------


def _role(text: str) -> Role:
    try:
        return Role.parse(text)
    except ValueError:
        choices = "、".join(f"{r.value}({r.label})" for r in Role)
        raise InvalidInput(f"角色「{text}」无效,应为:{choices}") from None


@user_app.command("add")
@edge
def user_add(
    name: Annotated[str, typer.Argument(help="用户名(登录名)")],
    role: Annotated[
        str, typer.Option("--role", help="角色:inspector team_leader coordinator unit verifier leader admin")
    ],
    unit: Annotated[str | None, typer.Option("--unit", help="所在单位(unit 角色必填)")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="显示名")] = None,
    linked_county: Annotated[str | None, typer.Option("--linked-county", help="州领导的联系县")] = None,
    password: Annotated[str, typer.Option("--password", prompt="登录密码", hide_input=True, confirmation_prompt=True,
                                          help="网页登录密码(省略时提示输入)")] = ...,
    as_of: AsOf = None,
) -> None:
    """添加用户(同时设置网页登录密码)。"""
    from rectify.models.accounts import set_password

    with unit_of_work(parse_instant(as_of)) as ctx:
        the_role = _role(role)
        if the_role is Role.UNIT and not unit:
            raise InvalidInput("责任单位经办人(unit)必须用 --unit 指明所在单位")
        if find_user(ctx.session, name) is not None:
            raise InvalidInput(f"用户「{name}」已存在")
        user = User(
            name=name.strip(),
            display_name=display_name,
            role=the_role,
            unit=get_unit(ctx.session, unit) if unit else None,
            linked_county=get_county(ctx.session, linked_county) if linked_county else None,
            active=True,
        )
        set_password(user, password)
        ctx.session.add(user)
    console.print(f"已添加用户 {user.name}({the_role.label})")


@user_app.command("list")
@edge
def user_list(
    role: Annotated[str | None, typer.Option("--role", help="只看此角色")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
    as_of: AsOf = None,
) -> None:
    """列出用户。"""
    with unit_of_work(parse_instant(as_of)) as ctx:
        query = select(User).order_by(User.role, User.name)
        if role:
            query = query.where(User.role == _role(role))
        rows = [
            {
                "name": u.name,
                "display_name": u.display_name,
                "role": u.role.value,
                "role_label": u.role.label,
                "unit": u.unit.name if u.unit else None,
                "linked_county": u.linked_county.name if u.linked_county else None,
            }
            for u in ctx.session.scalars(query)
        ]
    print_rows(
        rows,
        [("name", "用户名"), ("role_label", "角色"), ("unit", "单位"), ("linked_county", "联系县")],
        fmt=fmt,
        title="用户",
    )


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


# --- problems --------------------------------------------------------------------------


def _show(ctx: Context, issue: Issue, fmt: Format) -> None:
    load_issue_detail(ctx.session, issue)
    data = issue_to_dict(issue, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy)
    warnings = suspicions(ctx.session, issue, ctx.policy)
    data["warnings"] = [w.to_dict() for w in warnings]
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
        ("整改时限", _deadline_text(data)),
        ("督办级别", issue.supervision.label),
    ]
    if data["measures"]:
        lines.append(("整改措施", data["measures"]))
    if data["on_site_note"]:
        lines.append(("现场解决情况", data["on_site_note"]))
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


@issue_app.command("assign")
@edge
def issue_assign(
    code: Code,
    unit: Annotated[str, typer.Option("--unit", help="责任单位")],
    actor: Actor,
    deadline: Annotated[str | None, typer.Option("--deadline", help="整改时限 YYYY-MM-DD(默认按严重程度)")] = None,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """交办:指定责任单位和整改时限(协调员)。"""
    _act(
        as_of,
        fmt,
        lambda issue: f"已交办 {issue.unit.name},时限 {issue.deadline}",
        issue_actions.assign,
        code,
        actor=actor,
        unit=unit,
        deadline=_date(deadline, "整改时限"),
        expected_version=expect_version,
    )


@issue_app.command("sign")
@edge
def issue_sign(
    code: Code, actor: Actor, expect_version: ExpectVersion = None, fmt: Fmt = Format.table, as_of: AsOf = None
) -> None:
    """签收(责任单位)。"""
    _act(as_of, fmt, "已签收", issue_actions.sign, code, actor=actor, expected_version=expect_version)


@issue_app.command("send-back")
@edge
def issue_send_back(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="退回或改派理由")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """退回改派:责任单位认为不属于本单位,退回协调员重新交办。"""
    _act(
        as_of,
        fmt,
        "已退回协调员",
        issue_actions.send_back,
        code,
        actor=actor,
        reason=reason,
        expected_version=expect_version,
    )


@issue_app.command("progress")
@edge
def issue_progress(
    code: Code,
    note: Annotated[str, typer.Option("--note", help="整改进展")],
    actor: Actor,
    evidence: Evidence = [],  # noqa: B006 - Typer needs a literal default
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """报告整改进展(责任单位)。"""
    _act(
        as_of,
        fmt,
        "已记录进展",
        issue_actions.progress,
        code,
        actor=actor,
        note=note,
        evidence=evidence,
        expected_version=expect_version,
    )


@issue_app.command("extend")
@edge
def issue_extend(
    code: Code,
    until: Annotated[str, typer.Option("--until", help="申请延期至 YYYY-MM-DD")],
    reason: Annotated[str, typer.Option("--reason", help="延期理由")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """申请延期(责任单位,须在时限届满前)。"""
    _act(
        as_of,
        fmt,
        lambda issue: f"已申请延期至 {until},待协调员审批",
        issue_actions.request_extension,
        code,
        actor=actor,
        until=parse_date(until, what="延期日期"),
        reason=reason,
        expected_version=expect_version,
    )


@issue_app.command("approve-extension")
@edge
def issue_approve_extension(
    code: Code,
    actor: Actor,
    note: Annotated[str | None, typer.Option("--note", help="审批意见")] = None,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """批准延期(协调员);原时限保留用于按期销号统计。"""
    _act(
        as_of,
        fmt,
        lambda issue: f"已批准延期,新时限 {issue.deadline}",
        issue_actions.decide_extension,
        code,
        actor=actor,
        approve=True,
        note=note,
        expected_version=expect_version,
    )


@issue_app.command("deny-extension")
@edge
def issue_deny_extension(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="驳回理由")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """驳回延期申请(协调员)。"""
    _act(
        as_of,
        fmt,
        "已驳回延期申请",
        issue_actions.decide_extension,
        code,
        actor=actor,
        approve=False,
        note=reason,
        expected_version=expect_version,
    )


@issue_app.command("submit")
@edge
def issue_submit(
    code: Code,
    measures: Annotated[str, typer.Option("--measures", help="已采取的整改措施")],
    actor: Actor,
    evidence: Evidence = [],  # noqa: B006
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """申请销号:提交整改措施和至少一份佐证材料(责任单位)。"""
    _act(
        as_of,
        fmt,
        "已申请销号,待核验",
        issue_actions.submit,
        code,
        actor=actor,
        measures=measures,
        evidence=evidence,
        expected_version=expect_version,
    )


@issue_app.command("verify")
@edge
def issue_verify(
    code: Code,
    note: Annotated[str, typer.Option("--note", help="核验意见")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """核验销号(核验人,不得核验本单位或本人提交的问题)。"""
    _act(as_of, fmt, "已销号", issue_actions.verify, code, actor=actor, note=note, expected_version=expect_version)


@issue_app.command("return")
@edge
def issue_return(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="退回理由")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """退回重改(核验人)。"""
    _act(
        as_of,
        fmt,
        "已退回责任单位重新整改",
        issue_actions.return_submission,
        code,
        actor=actor,
        reason=reason,
        expected_version=expect_version,
    )


@issue_app.command("reopen")
@edge
def issue_reopen(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="反弹情况说明")],
    actor: Actor,
    evidence: Evidence = [],  # noqa: B006
    unit: Annotated[str | None, typer.Option("--unit", help="责任单位(默认原单位)")] = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="新整改时限 YYYY-MM-DD")] = None,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """反弹重开:回头看发现已销号或现场解决的问题再次出现(核验人、协调员)。"""
    _act(
        as_of,
        fmt,
        lambda issue: f"已重开,交 {issue.unit.name},时限 {issue.deadline}",
        issue_actions.reopen,
        code,
        actor=actor,
        reason=reason,
        evidence=evidence,
        unit=unit,
        deadline=_date(deadline, "整改时限"),
        expected_version=expect_version,
    )


@issue_app.command("void")
@edge
def issue_void(
    code: Code,
    reason: Annotated[str, typer.Option("--reason", help="撤销理由(如不是问题、重复登记)")],
    actor: Actor,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """撤销问题(协调员,须说明理由)。"""
    _act(as_of, fmt, "已撤销", issue_actions.void, code, actor=actor, reason=reason, expected_version=expect_version)


@issue_app.command("escalate")
@edge
def issue_escalate(
    code: Code,
    level: Annotated[str, typer.Option("--level", help="黄牌 / 红牌 / 挂牌督办")],
    actor: Actor,
    note: Annotated[str | None, typer.Option("--note", help="说明")] = None,
    expect_version: ExpectVersion = None,
    fmt: Fmt = Format.table,
    as_of: AsOf = None,
) -> None:
    """提高督办级别(协调员、领导)。"""
    _act(
        as_of,
        fmt,
        lambda issue: f"督办级别已提至「{issue.supervision.label}」",
        issue_actions.escalate,
        code,
        actor=actor,
        level=level,
        note=note,
        expected_version=expect_version,
    )


# --- calendar ---------------------------------------------------------------------------


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


@app.command()
@edge
def demo(
    as_of: AsOf = None,
) -> None:
    """演示:迁移、载入数据,按 2016 年督导的类别登记几个问题并走完各个状态。"""
    from rectify.flows.demo import run_demo

    run_demo(console)


def main() -> None:
    app()
