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
from rectify.models.lookup import find_user, get_county, get_unit, get_user
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
    from rectify.models.accounts import set_password

    password = None if no_login else read_password(password_stdin, otherwise=",或用 --no-login 添加不登录网页的用户")
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
        if password is not None:
            set_password(user, password)
        ctx.session.add(user)
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


@user_app.command("passwd")
@edge
def passwd(
    name: Annotated[str, typer.Argument(help="用户名")],
    password_stdin: PasswordStdin = False,
    as_of: AsOf = None,
) -> None:
    """修改用户的网页登录密码(其已登录的会话随之失效)。"""
    from rectify.models.accounts import set_password

    password = read_password(password_stdin)
    with unit_of_work(parse_instant(as_of)) as ctx:
        set_password(get_user(ctx.session, name), password)
    console.print(f"已修改 {name} 的密码")


@user_app.command("token")
@edge
def token(
    name: Annotated[str, typer.Argument(help="用户名")],
    label: Annotated[str | None, typer.Option("--label", help="用途说明,如 省平台对接")] = None,
    as_of: AsOf = None,
) -> None:
    """为用户生成一个 API 令牌(只显示这一次,请妥善保存)。"""
    from rectify.models.accounts import new_token

    with unit_of_work(parse_instant(as_of)) as ctx:
        secret = new_token(ctx.session, get_user(ctx.session, name), now=ctx.now, label=label)
    typer.echo(secret)
