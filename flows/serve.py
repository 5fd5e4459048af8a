"""`rectify serve`: everything one prefecture needs on one machine, started in order and stopped
together.

1. a Prefect server on 127.0.0.1 with its own database under $RECTIFY_HOME/prefect (separate
   from rectify's), its UI on the Prefect port;
2. the scheduled deployments (`rectify schedules`: send-reminders on working days 08:30 and
   weekly-bulletin Mondays 09:00, Asia/Shanghai, one run at a time each);
3. the web app (`rectify web`).

Each is a child process in a session of its own, started only once the one before it answers.
Ctrl-C or SIGTERM stops them in reverse order (SIGTERM to each process group, SIGKILL after a
grace period), so no process outlives `rectify serve`. If a child dies, the others are stopped
and `rectify serve` exits 1 (systemd then restarts the lot).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from rectify.models.db import rectify_home

GRACE_SECONDS = 20
RECTIFY = [sys.executable, "-c", "from flows.cli import app; app()"]


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    where: str

    def stop(self) -> None:
        """SIGTERM to the child's process group, SIGKILL to whatever is left after the grace period."""
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        self._signal(signal.SIGKILL)  # grandchildren may outlive the group's leader
        if self.process.poll() is None:
            self.process.wait(timeout=5)

    def _signal(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass


def _wait_until(check: Callable[[], bool], child: Child, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.name} 启动失败(退出码 {child.process.returncode}),日志见 {child.where}")
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{child.name} 在 {timeout:.0f} 秒内没有就绪,日志见 {child.where}")


class Stop(Exception):
    pass


def _on_signal(signum, _frame) -> None:
    raise Stop(signal.Signals(signum).name)


def serve_all(*, host: str, web_port: int, prefect_port: int, say: Callable[[str], None]) -> int:
    home = Path(rectify_home())
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    api = f"http://127.0.0.1:{prefect_port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect"), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_API_URL": api}
    children: list[Child] = []

    def start(name: str, args: list[str], log_name: str) -> Child:
        log = (logs / log_name).open("ab")
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        child = Child(name, process, str(logs / log_name))
        children.append(child)
        return child

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        say("启动 Prefect 服务器 …")
        prefect = start("Prefect 服务器", [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                          "--port", str(prefect_port)], "prefect-server.log")
        _wait_until(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, prefect, 180)
        say(f"Prefect 界面:http://127.0.0.1:{prefect_port}/")
        schedules = start("计划任务", [*RECTIFY, "schedules"], "schedules.log")
        _wait_until(lambda: _deployments(api) >= 2, schedules, 120)
        say("计划任务:send-reminders(工作日 08:30)、weekly-bulletin(周一 09:00),北京时间")
        web = start("网页", [*RECTIFY, "web", "--host", host, "--port", str(web_port)], "web.log")
        _wait_until(lambda: httpx.get(f"http://127.0.0.1:{web_port}/login", timeout=2).status_code == 200, web, 60)
        say(f"网页:http://{host}:{web_port}/   日志:{logs}   按 Ctrl-C 停止")
        while True:
            for child in children:
                if child.process.poll() is not None:
                    say(f"{child.name} 意外退出(退出码 {child.process.returncode}),日志见 {child.where};全部停止")
                    return 1
            time.sleep(1)
    except Stop as stop:
        say(f"收到 {stop},正在停止 …")
        return 0
    except RuntimeError as exc:
        say(str(exc))
        return 1
    finally:
        for child in reversed(children):
            child.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _deployments(api: str) -> int:
    answer = httpx.post(f"{api}/deployments/count", json={}, timeout=2)
    return int(answer.json()) if answer.status_code == 200 else 0
