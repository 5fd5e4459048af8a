"""`rectify user`: who may act, and how they log in."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from rectify.flows.cli.support import (
    AsOf,
    Format,
    PasswordStdin,
    console,
    edge,
    print_rows,
    read_password,
)
from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.models.enums import Role
from rectify.models.errors import InvalidInput
from rectify.models.lookup import get_county, get_unit, get_user
from rectify.models.org import User

user_app = typer.Typer(help="用户", no_args_is_help=True)


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
    password_stdin: PasswordStdin = False,
    no_login: Annotated[
        bool, typer.Option("--no-login", help="不设网页登录密码(只在命令行以 --as 代为操作的用户)")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """添加用户,并设置网页登录密码:在终端上提示输入两次;脚本用 --password-stdin 从标准输入提供。"""
    from rectify.models.accounts import add_user

    password = None if no_login else read_password(password_stdin, otherwise=",或用 --no-login 添加不登录网页的用户")
    with unit_of_work(parse_instant(as_of)) as ctx:
        the_role = _role(role)
        user = add_user(ctx.session, name, role=the_role, unit=get_unit(ctx.session, unit) if unit else None,
                        display_name=display_name, password=password,
                        linked_county=get_county(ctx.session, linked_county) if linked_county else None)
    login = "不能登录网页(未设密码;可用 rectify user passwd 设置)" if password is None else "可以登录网页"
    console.print(f"已添加用户 {user.name}({the_role.label}),{login}")


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
                "unit_head": u.unit_head,
                "linked_county": u.linked_county.name if u.linked_county else None,
            }
            for u in ctx.session.scalars(query)
        ]
    print_rows(
        rows,
        [("name", "用户名"), ("role_label", "角色"), ("unit", "单位"), ("unit_head", "单位负责人"),
         ("linked_county", "联系县")],
        fmt=fmt,
        title="用户",
    )


@user_app.command("passwd")
@edge
def passwd(
    name: Annotated[str, typer.Argument(help="用户名")],
    password_stdin: PasswordStdin = False,
    and_tokens: Annotated[bool, typer.Option("--revoke-tokens", help="同时作废该用户的全部 API 令牌")] = False,
    as_of: AsOf = None,
) -> None:
    """修改用户的网页登录密码:其已登录的会话全部结束;--revoke-tokens 同时作废其 API 令牌。"""
    from rectify.models.accounts import end_sessions, revoke_tokens, set_password, tokens_of

    password = read_password(password_stdin)
    with unit_of_work(parse_instant(as_of)) as ctx:
        user = get_user(ctx.session, name)
        set_password(user, password)
        ended = end_sessions(ctx.session, user)
        revoked = revoke_tokens(ctx.session, user) if and_tokens else 0
        live = sum(1 for t in tokens_of(ctx.session, user) if t.revoked_at is None)
    console.print(f"已修改 {name} 的密码,结束已登录的会话 {ended} 个"
                  + (f",作废 API 令牌 {revoked} 个" if revoked else ""))
    if live:
        console.print(f"{name} 仍有 {live} 个有效的 API 令牌;如密码可能已泄露,"
                      f"请用 rectify user token {name} --revoke-all 作废")


@user_app.command("unlock")
@edge
def unlock(
    name: Annotated[str | None, typer.Argument(help="用户名")] = None,
    address: Annotated[str | None, typer.Option("--address", help="只解除此地址(或此地址的全部用户名)")] = None,
) -> None:
    """解除登录限制:清除该用户名(或地址)记录在案的失败登录,之后可立即再试。"""
    from rectify.models.accounts import real_now
    from rectify.models.throttle import unlock as clear

    with unit_of_work(real_now()) as ctx:
        cleared = clear(ctx.session, now=real_now(), name=name, address=address)
    who = "、".join(x for x in (name, address and f"地址 {address}") if x)
    console.print(f"已解除 {who} 的登录限制(清除失败记录 {cleared} 条)")


@user_app.command("phone")
@edge
def phone(
    name: Annotated[str, typer.Argument(help="用户名")],
    number: Annotated[str | None, typer.Option("--set", help="手机号(11 位中国大陆手机号)")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="删除手机号")] = False,
) -> None:
    """手机号:短信通知发到这里(单位的短信渠道发给本单位每个有手机号的人);显示时隐去中间四位。"""
    from datetime import UTC, datetime

    from rectify.models.org import mask_phone, normalise_phone

    with unit_of_work(datetime.now(UTC)) as ctx:
        user = get_user(ctx.session, name)
        if clear:
            user.phone = None
        elif number is not None:
            user.phone = normalise_phone(number)
        shown = mask_phone(user.phone)
    console.print(f"{name} 的手机号:{shown}")


@user_app.command("head")
@edge
def head(
    name: Annotated[str, typer.Argument(help="用户名(责任单位的用户)")],
    off: Annotated[bool, typer.Option("--off", help="取消单位负责人")] = False,
) -> None:
    """单位负责人:政策要求审核的销号申请先报负责人,审核通过后才报核验。"""
    from datetime import UTC, datetime

    from rectify.models.accounts import set_unit_head

    with unit_of_work(datetime.now(UTC)) as ctx:
        user = get_user(ctx.session, name)
        set_unit_head(user, not off)
        unit = user.unit.name if user.unit else ""
    console.print(f"{name} {'已不再是' if off else '已设为'} {unit} 的单位负责人")


@user_app.command("token")
@edge
def token(
    name: Annotated[str, typer.Argument(help="用户名")],
    label: Annotated[str | None, typer.Option("--label", help="用途说明,如 省平台对接")] = None,
    days: Annotated[int, typer.Option("--days", help="有效天数")] = 90,
    list_them: Annotated[bool, typer.Option("--list", help="列出该用户的令牌(不显示令牌本身)")] = False,
    revoke: Annotated[int | None, typer.Option("--revoke", help="作废一个令牌(编号见 --list)")] = None,
    revoke_all: Annotated[bool, typer.Option("--revoke-all", help="作废该用户的全部令牌")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="--list 的输出格式")] = Format.table,
) -> None:
    """为用户生成一个 API 令牌(只显示这一次,请妥善保存;默认 90 天后失效);或列出、作废令牌。"""
    from rectify.models.accounts import new_token, real_now, revoke_tokens, tokens_of
    from rectify.models.calendar import moment_text

    with unit_of_work(real_now()) as ctx:
        user = get_user(ctx.session, name)
        if list_them:
            now = real_now()
            rows = [{"id": t.id, "label": t.label or "", "created": moment_text(t.created_at),
                     "expires": moment_text(t.expires_at) if t.expires_at else "",
                     "last_used": moment_text(t.last_used_at) if t.last_used_at else "从未使用",
                     "state": "已作废" if t.revoked_at else ("已过期" if t.expires_at and t.expires_at <= now
                                                           else "有效")} for t in tokens_of(ctx.session, user)]
        elif revoke is not None or revoke_all:
            revoked = revoke_tokens(ctx.session, user, token_id=revoke)
        else:
            secret = new_token(ctx.session, user, label=label, days=days)
    if list_them:
        print_rows(rows, [("id", "编号"), ("label", "用途"), ("created", "生成于"), ("expires", "失效于"),
                          ("last_used", "最近使用"), ("state", "状态")], fmt=fmt, title=f"{name} 的 API 令牌")
    elif revoke is not None or revoke_all:
        console.print(f"已作废 {name} 的 API 令牌 {revoked} 个")
    else:
        typer.echo(secret)
