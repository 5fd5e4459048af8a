"""Flow runs a killed process leaves behind.

A command runs its flow in its own process. Killed there (kill -9, the power, the OOM killer),
nothing tells Prefect, and the run would show Running forever. So each such run is tagged with
its host and its process (pid and start time, so that a pid used again later is not taken for
it), and before a command starts a run it marks Crashed every run of this host still Pending or
Running whose process is gone. The data needs nothing: a killed import's transaction was never
committed, and a killed reminder run's deliveries are picked up again (notifications/ledger).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOST = socket.gethostname()
CRASHED = "运行它的进程已终止(如被 kill -9 或断电),本次运行未完成;未提交的数据已回滚,可重新运行"


def process_start(pid: int) -> str | None:
    """When the process started (clock ticks since boot), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        if not Path("/proc/self/stat").exists():  # no /proc: only whether the pid lives
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return None
            except PermissionError:
                pass
            return "?"
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def owner_tags() -> list[str]:
    return [f"host:{HOST}", f"pid:{os.getpid()}:{process_start(os.getpid())}"]


def mark_orphaned_runs() -> int:
    """Mark Crashed the runs this host's commands left Pending or Running; how many."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    marked = 0
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PENDING, StateType.RUNNING])),
            tags=FlowRunFilterTags(all_=[f"host:{HOST}"])))
        for run in runs:
            owner = next((t for t in run.tags if t.startswith("pid:")), None)
            if owner is None:
                continue
            _, pid, started = owner.split(":", 2)
            alive = process_start(int(pid))
            if alive is not None and alive in (started, "?"):
                continue
            client.set_flow_run_state(run.id, Crashed(message=CRASHED), force=True)
            marked += 1
    return marked


@contextmanager
def command_run(*names: str) -> Iterator[None]:
    """Tags for a flow a command runs in its own process (`names` and its owner), after marking
    the runs that earlier commands on this host left behind."""
    from prefect import tags

    mark_orphaned_runs()
    with tags(*names, *owner_tags()):
        yield
