"""`rectify demo`."""

from __future__ import annotations

import typer

from rectify.flows.cli.support import AsOf, console, edge, prefect_logs_to_file

app = typer.Typer()


@app.command()
@edge
def demo(
    as_of: AsOf = None,
) -> None:
    """演示:迁移、载入数据,按 2016 年督导的类别登记几个问题并走完各个状态。"""
    from rectify.flows.demo import run_demo

    with prefect_logs_to_file():
        run_demo(console)

