"""Benchmark: the web app under load, on 100,000 problems, SQLite and PostgreSQL.

`rectify web` runs in its own process on 127.0.0.1; this process is the load: N clients
(default 20), each logged in beforehand with its own session, each sending its next request as soon as
the last one answered, for D seconds (default 30) per page:

  baseline   /static/style.css (the same server, no database, no template): the floor
  dashboard  /dashboard as a leader
  list       /issues?county=康定市&status=rectifying&light=red&sort=deadline (a filtered page of 50)
  workbench  /workbench as the 经办人 of the unit with the most open problems
  problem    /issues/<code> as a leader: the page of one problem with its history

It prints the median, the 95th percentile, requests per second and errors, and each median as
a ratio of the baseline's. Goal: median < 100 ms and p95 < 300 ms, no errors.

Run: .venv/bin/python bench/web.py [--issues 100000] [--clients 20] [--seconds 30] [--workers CPUs]
     [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--skip-sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import on_postgres, scratch  # noqa: E402
from common import start_web as common_start_web  # noqa: E402

WORK = scratch("rectify-bench-web-")

import httpx  # noqa: E402
from population import NOW, build  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from rectify.flows.context import unit_of_work  # noqa: E402
from rectify.models.accounts import set_password  # noqa: E402
from rectify.models.enums import OPEN_STATUSES, Role  # noqa: E402
from rectify.models.issues import Issue  # noqa: E402
from rectify.models.lookup import get_user  # noqa: E402
from rectify.models.org import User  # noqa: E402

LEADER, PASSWORD = "州领导01", "bench-password"
PAGES = {
    "baseline": "/static/style.css",
    "dashboard": "/dashboard",
    "list": "/issues?county=%E5%BA%B7%E5%AE%9A%E5%B8%82&status=rectifying&light=red&sort=deadline",
}


def start_web(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    return common_start_web(WORK, NOW.isoformat(), "--workers", str(workers), RECTIFY_DATABASE_URL=url)


def log_in(base: str, name: str = LEADER) -> dict[str, str]:
    """One client's session cookie (logging in costs an Argon2 check: not part of a page view)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        page = http.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        answer = http.post("/login", data={"name": name, "password": PASSWORD, "csrf": token})
        if "rectify_session" not in http.cookies or answer.status_code != 303:
            raise SystemExit(f"login failed: {answer.status_code}")
        return dict(http.cookies)


async def get(host: str, port: int, request: bytes) -> tuple[int, int]:
    """One request on a connection of its own; (status, bytes received)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await reader.read()  # to the end: the server closes after the response
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return (int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0), len(body)


async def client(base: str, cookies: dict[str, str], path: str, until: float, latencies: list[float],
                 errors: list[str]) -> None:
    # A new connection per request, as the reverse proxy of docs/deploy.md talks to the workers:
    # a kept-alive connection stays with the worker that accepted it, and 20 of them split
    # unevenly between workers (15/5 as well as 10/10) make runs differ twofold.
    # A bare HTTP/1.1 request over asyncio streams: the load shares the server's two cores,
    # and httpx spent about 2 ms of CPU per request there.
    host, port = base.removeprefix("http://").split(":")
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
               "Connection: close\r\n\r\n").encode()
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            status, size = await get(host, int(port), request)
        except OSError as exc:
            errors.append(type(exc).__name__)
            continue
        if status != 200 or not size:
            errors.append(str(status))
        latencies.append(time.perf_counter() - started)


async def load(base: str, sessions: list[dict[str, str]], path: str, seconds: float) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(base, cookies, path, until, latencies, errors) for cookies in sessions))
    return latencies, errors


def measure(label: str, url: str, issues: int, clients: int, seconds: float, workers: int) -> None:
    started = time.perf_counter()
    build(url, issues)
    with unit_of_work(NOW, url=url) as ctx:
        set_password(get_user(ctx.session, LEADER), PASSWORD)
        busiest = ctx.session.execute(
            select(Issue.unit_id, func.count()).where(Issue.status.in_(list(OPEN_STATUSES)))
            .group_by(Issue.unit_id).order_by(func.count().desc())).first()[0]
        handler = ctx.session.scalars(select(User).where(User.unit_id == busiest, User.role == Role.UNIT)).first()
        if handler is None:
            handler = User(name="基准经办人", role=Role.UNIT, unit_id=busiest, active=True)
            ctx.session.add(handler)
        set_password(handler, PASSWORD)
        unit_user = handler.name
        code = ctx.session.scalar(select(Issue.code).order_by(Issue.id).limit(1))
    pages = {**PAGES, "workbench": "/workbench", "problem": f"/issues/{code}"}
    print(f"[{label}] {issues:,} problems (built in {time.perf_counter() - started:.0f} s); "
          f"{clients} clients × {seconds:.0f} s per page, {workers} web worker(s)")
    gc.collect()
    gc.freeze()  # the load runs in this process: keep the collector off what the build left
    server, base = start_web(url, workers)
    try:
        leaders = [log_in(base) for _ in range(clients)]
        units = [log_in(base, unit_user) for _ in range(clients)]
        medians = {}
        for name, path in pages.items():
            sessions = units if name == "workbench" else leaders
            asyncio.run(load(base, sessions, path, 3))  # warm-up: caches, connections
            latencies, errors = asyncio.run(load(base, sessions, path, seconds))
            ms = sorted(x * 1000 for x in latencies)
            medians[name] = statistics.median(ms)
            p95 = ms[int(len(ms) * 0.95) - 1]
            ratio = "" if name == "baseline" else f"   median {medians[name] / medians['baseline']:5.1f}x baseline"
            failed = ", ".join(f"{k}×{n}" for k, n in Counter(errors).most_common(3))
            print(f"  {name:<10} median {medians[name]:7.1f} ms   p95 {p95:7.1f} ms   {len(ms) / seconds:7.1f} req/s"
                  f"   errors {len(errors)}{f' ({failed})' if failed else ''}{ratio}")
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        measure("SQLite", f"sqlite:///{WORK / 'web.db'}", args.issues, args.clients, args.seconds, args.workers)
    try:
        on_postgres(args.pg, lambda url: measure("PostgreSQL", url, args.issues, args.clients, args.seconds,
                                                 args.workers))
    finally:
        shutil.rmtree(WORK, ignore_errors=True)

if __name__ == "__main__":
    main()
