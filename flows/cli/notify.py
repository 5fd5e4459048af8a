"""Notification commands: `channel`, `deliveries`, `remind` and `serve`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import select

from rectify.flows.cli.support import AsOf, ListFormat, console, edge, err_console, flow_run, print_json, print_rows
from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.models.deliveries import Channel
from rectify.models.errors import InvalidInput, NotFound
from rectify.models.lookup import get_unit, get_user

app = typer.Typer()
channel_app = typer.Typer(help="通知渠道(钉钉、企业微信、飞书、邮件、回调)", no_args_is_help=True)
app.add_typer(channel_app, name="channel")

UnitOpt = Annotated[str | None, typer.Option("--unit", help="责任单位名称")]
UserOpt = Annotated[str | None, typer.Option("--user", help="用户名(领导、协调员个人渠道)")]


def _owner(ctx, unit: str | None, user: str | None) -> dict:
    if (unit is None) == (user is None):
        raise InvalidInput("请指定 --unit 或 --user 之一")
    return {"unit": get_unit(ctx.session, unit)} if unit else {"user": get_user(ctx.session, user or "")}


def _get_channel(ctx, channel_id: int) -> Channel:
    from rectify.flows.channels import get_channel

    try:
        return get_channel(ctx, channel_id)
    except NotFound:
        raise NotFound("通知渠道", str(channel_id), hint="用 rectify channel list 查看编号") from None


@channel_app.command("add")
@edge
def channel_add(
    url: Annotated[
        str,
        typer.Option("--url", help="通知地址(rdingtalk:// rwecombot:// rwecomapp:// rfeishu:// mailto:// json:// 等)"),
    ],
    unit: UnitOpt = None,
    user: UserOpt = None,
    priority: Annotated[int, typer.Option("--priority", help="优先级,数字小的先用;失败时依次改用下一个")] = 10,
    as_of: AsOf = None,
) -> None:
    """为单位或个人添加通知渠道(密钥只保存,不显示)。"""
    from rectify.flows.channels import add_channel, channel_row

    with unit_of_work(parse_instant(as_of)) as ctx:
        channel = add_channel(ctx, url, priority=priority, **_owner(ctx, unit, user))
        row = channel_row(channel)
    console.print(f"已添加渠道 #{row['id']}({row['kind']},优先级 {priority}):{row['url']}")


@channel_app.command("list")
@edge
def channel_list(unit: UnitOpt = None, user: UserOpt = None,
                 fmt: Annotated[ListFormat, typer.Option("--format", help="输出格式")] = ListFormat.table) -> None:
    """列出通知渠道(地址中的密钥已隐去)。"""
    from rectify.flows.channels import channel_row

    with unit_of_work(datetime.now(UTC)) as ctx:
        query = select(Channel).order_by(Channel.unit_id, Channel.user_id, Channel.priority, Channel.id)
        if unit or user:
            owner = _owner(ctx, unit, user)
            query = query.where(Channel.unit_id == owner["unit"].id) if unit else query.where(
                Channel.user_id == owner["user"].id)
        rows = [channel_row(c) for c in ctx.session.scalars(query)]
    print_rows(rows, [("id", "编号"), ("owner", "单位/个人"), ("kind", "类型"), ("priority", "优先级"),
                      ("url", "地址(已隐去密钥)"), ("active", "启用")], fmt=fmt.value, title="通知渠道")


@channel_app.command("remove")
@edge
def channel_remove(channel_id: Annotated[int, typer.Argument(help="渠道编号(见 channel list)")]) -> None:
    """删除一个通知渠道。"""
    with unit_of_work(datetime.now(UTC)) as ctx:
        channel = _get_channel(ctx, channel_id)
        ctx.session.delete(channel)
    console.print(f"已删除渠道 #{channel_id}")


@channel_app.command("test")
@edge
def channel_test(channel_id: Annotated[int, typer.Argument(help="渠道编号(见 channel list)")]) -> None:
    """向一个渠道发送测试消息,显示对方的回答(不写入发送台账)。"""
    from rectify.flows.channels import send_test, test_message

    with unit_of_work(datetime.now(UTC)) as ctx:
        url, title, body = test_message(ctx, _get_channel(ctx, channel_id))
    attempt = send_test(url, title, body)
    if attempt.ok:
        console.print(f"[green]测试消息已送达[/] {attempt.channel}")
    else:
        err_console.print(f"[bold red]发送失败:[/]{attempt.detail}({attempt.channel})")
        raise typer.Exit(1)


@app.command()
@edge
def deliveries(
    failed: Annotated[bool, typer.Option("--failed", help="只看发送失败、等待重试的")] = False,
    day: Annotated[str | None, typer.Option("--day", help="只看这一天的(如 2016-08-25)")] = None,
    unread: Annotated[bool, typer.Option("--unread", help="只看对方尚未阅读的(钉钉工作通知、飞书应用消息)")] = False,
    limit: Annotated[int, typer.Option("--limit", help="最多显示条数")] = 200,
    fmt: Annotated[ListFormat, typer.Option("--format", help="输出格式")] = ListFormat.table,
) -> None:
    """发送台账:每条消息的收件人、类型、状态、尝试次数和各渠道的结果。"""
    from rectify.flows.channels import delivery_row
    from rectify.flows.clock import parse_date
    from rectify.models.deliveries import ledger_rows
    from rectify.notifications.ledger import Directory

    with unit_of_work(datetime.now(UTC)) as ctx:
        found, total = ledger_rows(ctx.session, failed=failed, unread=unread, day=parse_date(day) if day else None,
                                   limit=limit)
        directory = Directory.load(ctx.session)
        rows = [delivery_row(d, directory.name(d.recipient)) for d in found]
    print_rows(rows, [("id", "编号"), ("day", "日期"), ("recipient", "收件人"), ("kind_label", "类型"),
                      ("items", "问题数"), ("status_label", "状态"), ("read_label", "已读"), ("attempts", "尝试"),
                      ("error", "失败原因")],
               fmt=fmt.value, title="发送台账" + (":失败待重试" if failed else ""), total=total,
               more=f"最新的 {len(rows)} 条;用 --limit {total} 显示全部")


@app.command()
@edge
def remind(
    as_of: AsOf = None,
    force: Annotated[bool, typer.Option("--force", help="非工作日也发送")] = False,
    fmt: Annotated[ListFormat, typer.Option("--format", help="输出格式")] = ListFormat.table,
) -> None:
    """运行一次提醒与督办(Prefect 流程 send-reminders):签收、到期、逾期提醒,黄牌/红牌/挂牌督办升级。"""
    from rectify.flows.reminders import run_flow

    with flow_run("send-reminders"):
        summary = run_flow(parse_instant(as_of), force=force)
    data = {"day": summary.day, "skipped": summary.skipped, "due": dict(summary.due),
            "escalated": dict(summary.escalated), "referrals": summary.referrals, "queued": summary.queued,
            "recipients": summary.recipients, "delivered": summary.delivered, "failed": summary.failed}
    if fmt is ListFormat.json:
        print_json(data)
    elif summary.skipped:
        console.print(f"[yellow]{summary.skipped}(可用 --force 强制发送)[/]")
    else:
        due = "、".join(f"{k} {n}" for k, n in summary.due.items()) or "无"
        raised = "、".join(f"{k} {n}" for k, n in summary.escalated.items()) or "无"
        console.print(f"{summary.day}:到期提醒 {due};升级 {raised};问责线索 {summary.referrals} 条")
        console.print(f"新排队 {summary.queued} 条,送达 {summary.delivered} 条(收件人 {summary.recipients} 个)")
        for failure in summary.failed:
            err_console.print(f"[red]发送失败[/] {failure}")
    if summary.failed:
        raise typer.Exit(1)
