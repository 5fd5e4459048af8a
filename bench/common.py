"""What the benchmarks share: a scratch folder, a Prefect server of their own, best-of timing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def scratch(prefix: str) -> Path:
    """A fresh folder for the run's databases, with rectify and Prefect pointed into it."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["RECTIFY_HOME"] = str(work / "home")
    os.environ["PREFECT_HOME"] = str(work / "prefect")
    return work


def best_of(times: int, measure):
    """The fastest of several runs (the others lost time to the machine, not to the code)."""
    results = [measure() for _ in range(times)]
    return min(results, key=lambda r: r[0] if isinstance(r, tuple) else r)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_prefect_server() -> tuple[subprocess.Popen, str, float]:
    """`prefect server start` on a free port; returns the process, its API URL and its start-up time."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    start = time.perf_counter()
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"},
    )
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.perf_counter() - start > 180:
            raise SystemExit("Prefect server did not start")
        time.sleep(0.2)
    return server, url, time.perf_counter() - start


def stop(server: subprocess.Popen) -> None:
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)  # the runs' logs reach the server before it stops
    server.terminate()
    server.wait(timeout=30)


def run_child(args: list[str], env: dict[str, str], *, exit_code: int = 0) -> tuple[float, float, str]:
    """Run a command; (seconds, its own peak memory in MB, stdout). Another exit code stops the run.

    The peak is the child's VmHWM, read every 20 ms while it runs. getrusage cannot tell it:
    Linux carries the parent's peak into a child's ru_maxrss across fork and exec, so a bench
    process holding a large workbook made every child look as large."""
    start = time.perf_counter()
    peak = [0]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(args, env=env, stdout=out, stderr=err, text=True)
        watcher = threading.Thread(target=_watch_peak, args=(child, peak), daemon=True)
        watcher.start()
        child.wait()
        elapsed = time.perf_counter() - start
        watcher.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != exit_code:
        raise SystemExit(f"{' '.join(args)} exited {child.returncode}\n{stdout}{stderr}")
    return elapsed, peak[0] / 1024, stdout


def _watch_peak(child: subprocess.Popen, peak: list[int]) -> None:
    status = Path(f"/proc/{child.pid}/status")
    while child.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.02)


def on_postgres(pg: str, measure) -> None:
    """Run `measure(url)` on a scratch PostgreSQL database, dropped afterwards; say so and go on
    when the server cannot be reached."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from rectify.flows import context as flow_context
    from rectify.models.db import normalise_url

    name = f"rectify_bench_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(normalise_url(pg))
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - report and go on without PostgreSQL
        print(f"[PostgreSQL] skipped: cannot reach {pg} ({type(exc).__name__})")
        return
    try:
        measure(admin_url.set(database=name).render_as_string(hide_password=False))
    finally:
        for engine in flow_context._engines.values():
            engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def start_web(log_dir: Path, as_of: str, *args: str, **env: str) -> tuple[subprocess.Popen, str]:
    """`rectify web` on a free port, its output in log_dir; `args` after its own options, `env`
    added to this process's. Returns the process and its base URL once /login answers."""
    import httpx

    port = free_port()
    log = (log_dir / f"web-{port}.log").open("w")
    server = subprocess.Popen([str(BIN / "rectify"), "web", "--port", str(port), "--as-of", as_of, *args],
                              env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/login", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("rectify web did not start: " + (log_dir / f"web-{port}.log").read_text())
