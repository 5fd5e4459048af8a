"""Benchmark: a flood of anonymous logins while users browse (issue 16).

`rectify web` (one worker) serves a database of N problems (default 10,000). Ten users, logged in
beforehand, browse the dashboard and a filtered list, each sending its next request when the
last answered. First alone for D seconds (the baseline), then while A attackers (default 100)
keep a login attempt in flight each: a wrong password for a made-up name, every attempt from an
address of its own (sent as X-Forwarded-For, which `rectify web` trusts from 127.0.0.1 only, as
from the reverse proxy): the throttle's per-address count never helps, only the hashing bound
and the site-wide count do.

It prints the pages' median and p95 in both phases with the ratio, how the attempts were
answered, and the server's peak resident memory. Goal: p95 under 500 ms and peak memory under
400 MB during the flood.

Run: .venv/bin/python bench/login.py [--issues 10000] [--attackers 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from population import NOW, build  # noqa: E402

import web as pages_bench  # noqa: E402  (its server, logins and page load)
from rectify.flows.context import unit_of_work  # noqa: E402
from rectify.models.accounts import set_password  # noqa: E402
from rectify.models.lookup import get_user  # noqa: E402

WORK = pages_bench.WORK
USERS = 10
PATHS = [pages_bench.PAGES["dashboard"], pages_bench.PAGES["list"]]


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def watch_memory(pid: int, stop: threading.Event, peak: list[float]) -> None:
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], resident_mb(pid))
        except OSError:
            return
        time.sleep(0.02)


async def browse(base: str, sessions: list[dict[str, str]], seconds: float) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    until = time.monotonic() + seconds
    await asyncio.gather(*(pages_bench.client(base, cookies, PATHS[n % 2], until, latencies, errors)
                           for n, cookies in enumerate(sessions)))
    return latencies, errors


async def attack(base: str, attackers: int, until: float, answers: Counter) -> None:
    host, port = base.removeprefix("http://").split(":")
    # One form token for all: the attacker fetched the login page once.
    import httpx

    async with httpx.AsyncClient(base_url=base) as http:
        page = await http.get("/login")
        token = pages_bench.re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    addresses = itertools.count(1)

    async def one() -> None:
        while time.monotonic() < until:
            n = next(addresses)
            body = urlencode({"name": f"猜测{n}", "password": "guess-12345", "csrf": token}).encode()
            request = (f"POST /login HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                       f"X-Forwarded-For: 10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\n"
                       f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
            try:
                status, _ = await pages_bench.get(host, int(port), request)
            except OSError as exc:
                status = type(exc).__name__
            answers[status] += 1

    await asyncio.gather(*(one() for _ in range(attackers)))


async def under_attack(base, sessions, attackers, seconds, answers):
    until = time.monotonic() + seconds
    flood = asyncio.create_task(attack(base, attackers, until, answers))
    await asyncio.sleep(0.5)  # the flood is in flight before the pages are timed
    measured = await browse(base, sessions, seconds - 1)
    await flood
    return measured


def summary(latencies: list[float]) -> tuple[float, float]:
    ms = sorted(x * 1000 for x in latencies)
    return statistics.median(ms), ms[max(0, int(len(ms) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--attackers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    url = f"sqlite:///{WORK / 'login.db'}"
    try:
        build(url, args.issues)
        with unit_of_work(NOW, url=url) as ctx:
            set_password(get_user(ctx.session, pages_bench.LEADER), pages_bench.PASSWORD)
        server, base = pages_bench.start_web(url, 1)
        try:
            sessions = [pages_bench.log_in(base) for _ in range(USERS)]
            asyncio.run(browse(base, sessions, 2))  # warm-up
            idle = resident_mb(server.pid)
            alone, errors = asyncio.run(browse(base, sessions, args.seconds))
            stop, peak = threading.Event(), [0.0]
            watcher = threading.Thread(target=watch_memory, args=(server.pid, stop, peak))
            watcher.start()
            answers: Counter = Counter()
            flooded, flood_errors = asyncio.run(under_attack(base, sessions, args.attackers, args.seconds, answers))
            stop.set()
            watcher.join()
        finally:
            server.terminate()
            server.wait(timeout=20)
        (m0, p0), (m1, p1) = summary(alone), summary(flooded)
        print(f"{args.issues:,} problems, {USERS} users browsing, {args.attackers} login attempts in flight, "
              f"{args.seconds:.0f} s per phase, 1 web worker")
        print(f"  pages alone          median {m0:7.1f} ms   p95 {p0:7.1f} ms   errors {len(errors)}")
        print(f"  pages under flood    median {m1:7.1f} ms   p95 {p1:7.1f} ms   errors {len(flood_errors)}"
              f"   p95 {p1 / p0:5.2f}x alone   goal p95 < 500 ms: {'met' if p1 < 500 else 'MISSED'}")
        answered = ", ".join(f"{k}×{n}" for k, n in sorted(answers.items(), key=lambda kv: str(kv[0])))
        print(f"  login attempts       {sum(answers.values())} answered ({answered})")
        print(f"  server memory        idle {idle:6.0f} MB   peak under flood {peak[0]:6.0f} MB"
              f"   {peak[0] / idle:5.2f}x idle   goal < 400 MB: {'met' if peak[0] < 400 else 'MISSED'}")
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
