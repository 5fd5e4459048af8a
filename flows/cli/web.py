"""`rectify web` and the accounts behind it: passwords and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from rectify.flows.cli.support import AsOf, console, edge
from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.models.lookup import get_user

app = typer.Typer()
user_app = typer.Typer()


@app.command()
@edge
def web(
    host: Annotated[str, typer.Option("--host", help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="进程数(通常每个 CPU 核一个)")] = 1,
    as_of: AsOf = None,
) -> None:
    """网页:领导看板、问题清单、单位/督查办/核验工作台,以及 /api(令牌访问)。"""
    import os

    import uvicorn

    from rectify.models.db import database_url

    if as_of:
        os.environ["RECTIFY_WEB_AS_OF"] = as_of
    console.print(f"rectify 网页:http://{host}:{port}/  (API 文档 /api/docs;数据库 {database_url().split('@')[-1]})")
    uvicorn.run("rectify.web.main:app", host=host, port=port, workers=workers, log_level="warning", proxy_headers=True)


@user_app.command("passwd")
@edge
def passwd(
    name: Annotated[str, typer.Argument(help="用户名")],
    password: Annotated[str, typer.Option("--password", prompt="新密码", hide_input=True, confirmation_prompt=True,
                                          help="新密码(省略时提示输入)")] = ...,
    as_of: AsOf = None,
) -> None:
    """修改用户的网页登录密码(其已登录的会话随之失效)。"""
    from rectify.models.accounts import set_password

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
