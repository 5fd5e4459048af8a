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
    access = access_log_path()
    console.print(f"rectify 网页:http://{host}:{port}/  (API 文档 /api/docs;数据库 {database_url().split('@')[-1]};"
                  f"访问日志 {access})")
    uvicorn.run("rectify.web.main:app", host=host, port=port, workers=workers, log_config=logging_config(access),
                log_level=None, proxy_headers=True)


def access_log_path():
    from rectify.models.db import rectify_home

    folder = rectify_home() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "access.log"


def logging_config(access) -> dict:
    """uvicorn's own messages from warnings up on the terminal; every request, one line each
    (time, client address as the proxy reported it, request line, status), appended to `access`.
    A WatchedFileHandler: logrotate may move the file away."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
            "access": {"()": "uvicorn.logging.AccessFormatter", "use_colors": False,
                       "fmt": '%(asctime)s %(client_addr)s "%(request_line)s" %(status_code)s',
                       "datefmt": "%Y-%m-%dT%H:%M:%S%z"},
        },
        "handlers": {
            "default": {"formatter": "default", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            "access": {"formatter": "access", "class": "logging.handlers.WatchedFileHandler",
                       "filename": str(access), "encoding": "utf-8"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "WARNING", "propagate": False},
            "uvicorn.error": {"level": "WARNING"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
