"""`rectify web`: the pages and the API."""

from __future__ import annotations

from typing import Annotated

import typer

from rectify.flows.cli.support import AsOf, console, edge

app = typer.Typer()


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
