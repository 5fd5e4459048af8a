"""`rectify serve` (everything on one machine) and `rectify schedules` (the scheduled deployments)."""

from __future__ import annotations

from typing import Annotated

import typer

from rectify.flows.cli.support import console, edge, err_console

app = typer.Typer()


@app.command()
@edge
def serve(
    host: Annotated[str, typer.Option("--host", help="网页监听地址")] = "127.0.0.1",
    web_port: Annotated[int, typer.Option("--web-port", help="网页端口")] = 8000,
    prefect_port: Annotated[int, typer.Option("--prefect-port", help="Prefect 服务器与界面端口")] = 4200,
) -> None:
    """一台机器运行全部:Prefect 服务器、计划任务(提醒、周通报)、网页。Ctrl-C 或 SIGTERM 全部停止。"""
    from rectify.flows.serve import serve_all

    code = serve_all(host=host, web_port=web_port, prefect_port=prefect_port, say=console.print)
    raise typer.Exit(code)


@app.command()
@edge
def schedules(
    cron: Annotated[str, typer.Option("--cron", help="提醒时间(北京时间;非工作日自动跳过)")] = "30 8 * * *",
    bulletin_cron: Annotated[str, typer.Option("--bulletin-cron", help="周通报时间(北京时间)")] = "0 9 * * 1",
) -> None:
    """只运行计划任务:send-reminders 与 weekly-bulletin(需要 PREFECT_API_URL 指向的 Prefect 服务器)。"""
    import os

    from prefect import serve as prefect_serve

    from rectify.flows.deploy import scheduled

    if not os.environ.get("PREFECT_API_URL"):
        err_console.print("[yellow]注意:[/]未设置 PREFECT_API_URL;临时服务器不运行计划任务,"
                          "请用 rectify serve,或先启动 prefect server 并设置 PREFECT_API_URL")
    prefect_serve(*scheduled(cron, bulletin_cron))


@app.command()
@edge
def deploy(
    pool: Annotated[str, typer.Option("--pool", help="Prefect 进程工作池名称(不存在则创建)")] = "rectify",
    cron: Annotated[str, typer.Option("--cron", help="提醒时间(北京时间;非工作日自动跳过)")] = "30 8 * * *",
    bulletin_cron: Annotated[str, typer.Option("--bulletin-cron", help="周通报时间(北京时间)")] = "0 9 * * 1",
) -> None:
    """多机部署:在 PREFECT_API_URL 的 Prefect 服务器上登记计划任务,由工作池中的 prefect worker 执行。"""
    import os

    from rectify.flows.deploy import deploy_to_pool
    from rectify.models.errors import InvalidInput

    if not os.environ.get("PREFECT_API_URL"):
        raise InvalidInput("请先设置 PREFECT_API_URL(Prefect 服务器地址,如 http://prefect-host:4200/api)")
    ids = deploy_to_pool(pool, cron, bulletin_cron)
    console.print(f"已在工作池「{pool}」登记 {len(ids)} 个计划任务:send-reminders、weekly-bulletin;"
                  f"在各执行主机上运行:prefect worker start --pool {pool}")
