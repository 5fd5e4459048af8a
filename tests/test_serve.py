"""`rectify serve` starts the Prefect server, the scheduled deployments and the web app, and
SIGTERM stops every process it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_serve_starts_everything_and_sigterm_leaves_no_process(fresh_db, tmp_path):
    web, prefect = free_port(), free_port()
    env = {**os.environ, "RECTIFY_HOME": str(tmp_path / "home")}
    env.pop("PREFECT_API_URL", None)
    serve = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from flows.cli import app; app()",
            "serve",
            "--web-port",
            str(web),
            "--prefect-port",
            str(prefect),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{web}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert serve.poll() is None, serve.stdout.read().decode()
            time.sleep(0.5)
        else:
            raise AssertionError("rectify serve did not bring the web app up")
        api = f"http://127.0.0.1:{prefect}/api"
        assert httpx.get(f"{api}/health", timeout=5).json() is True
        names = {d["name"] for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=5).json()}
        assert names == {"send-reminders", "weekly-bulletin"}
        started = descendants(serve.pid)
        assert len(started) >= 3
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=90) == 0
        output = serve.stdout.read().decode()
        assert "收到 SIGTERM" in output and "Prefect 界面" in output
        time.sleep(0.5)
        assert [pid for pid in started if alive(pid)] == []
    finally:
        if serve.poll() is None:
            serve.kill()
