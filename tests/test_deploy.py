"""The many-machine shape, for real: rectify's database and a Prefect server both on PostgreSQL,
`rectify deploy` registering the schedules on a process work pool, `prefect worker` processes
running `send-reminders` triggered through the Prefect API. A worker killed in the middle of a
run loses nothing: a new worker's run sends what was left, and the ledger keeps every
recipient's digest to one row per day.

Runs in the PostgreSQL pass of the suite (RECTIFY_TEST_DATABASE_URL); `.ci/run` starts or
installs PostgreSQL for it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from standins import Robots
from webworld import DAY0, build

from rectify.flows.context import unit_of_work
from rectify.models.calendar import SHANGHAI
from rectify.models.db import normalise_url
from rectify.models.deliveries import Channel, Delivery
from rectify.models.enums import DeliveryStatus
from rectify.models.lookup import get_unit

pytestmark = pytest.mark.skipif(
    not os.environ.get("RECTIFY_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="runs in the PostgreSQL pass (RECTIFY_TEST_DATABASE_URL=postgresql://…), which .ci/run makes")
POOL = "rectify-ci"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def prefect_on_postgres(tmp_path):
    """A Prefect server whose own database is a fresh PostgreSQL database."""
    admin_url = make_url(normalise_url(os.environ["RECTIFY_TEST_DATABASE_URL"]))
    name = f"prefect_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database = admin_url.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_DATABASE_CONNECTION_URL": database,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_API_URL": api}
    log = (tmp_path / "prefect-server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                               str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        until(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 240, "the Prefect server to start")
        yield api
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def start_worker(api: str, url: str, home: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PREFECT_API_URL": api, "RECTIFY_DATABASE_URL": url, "RECTIFY_HOME": str(home),
           "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1"}
    return subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--type", "process"],
                            env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def trigger(api: str, moment: datetime) -> str:
    deployments = httpx.post(f"{api}/deployments/filter", json={"deployments": {"name": {"any_": ["send-reminders"]}}},
                             timeout=10).json()
    run = httpx.post(f"{api}/deployments/{deployments[0]['id']}/create_flow_run",
                     json={"parameters": {"now": moment.isoformat()}}, timeout=10)
    assert run.status_code == 201, run.text
    return run.json()["id"]


def state(api: str, run_id: str) -> str:
    return httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state"]["type"]


def ledger(day: date) -> list[Delivery]:
    with unit_of_work(DAY0) as ctx:
        rows = list(ctx.session.scalars(select(Delivery).where(Delivery.day == day)))
        ctx.session.expunge_all()
        return rows


def test_workers_run_the_deployed_reminders_and_a_killed_worker_loses_nothing(fresh_db, prefect_on_postgres,
                                                                             tmp_path):
    api = prefect_on_postgres
    world = build(fresh_db)
    with Robots() as robots:
        keys: dict[int, str] = {}  # unit id -> its robot's key
        with unit_of_work(DAY0) as ctx:
            for n, name in enumerate((world.unit, world.other_unit)):
                unit = get_unit(ctx.session, name)
                keys[unit.id] = f"key-{n}"
                ctx.session.add(Channel(unit=unit, url=f"rwecombot://key-{n}?api={robots.api}",
                                        kind="wecombot", priority=1, active=True, created_at=ctx.now))
        env = {**os.environ, "PREFECT_API_URL": api}
        deployed = subprocess.run([sys.executable, "-c", "from flows.cli import app; app()", "deploy", "--pool", POOL],
                                  env=env, capture_output=True, text=True, timeout=120)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        names = {d["name"] for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()}
        assert names == {"send-reminders", "weekly-bulletin"}

        home, log = tmp_path / "home", tmp_path / "workers.log"
        worker = start_worker(api, fresh_db, home, log)
        try:
            # 1. A run through the API, executed by the worker: every digest of the day is sent once.
            first_day = datetime(2016, 8, 23, 8, 30, tzinfo=SHANGHAI)
            run = trigger(api, first_day)
            until(lambda: state(api, run) in ("COMPLETED", "FAILED", "CRASHED"), 240, "the first run")
            assert state(api, run) == "COMPLETED", log.read_text(errors="replace")[-3000:]
            rows = ledger(first_day.date())
            assert rows and all(r.status is DeliveryStatus.SENT and r.attempts == 1 for r in rows)
            to_robots = Counter(r["query"].get("key") for r in robots.of("wecombot"))
            assert to_robots == {"key-0": 1, "key-1": 1}

            # 2. The worker is killed while a run is sending (each robot answers after 3 s).
            robots.delay = 3.0
            second_day = datetime(2016, 8, 24, 8, 30, tzinfo=SHANGHAI)
            before = len(robots.of("wecombot"))
            killed = trigger(api, second_day)
            until(lambda: state(api, killed) == "RUNNING", 120, "the second run to start")
            until(lambda: any(r.status is not DeliveryStatus.SENT for r in ledger(second_day.date())), 60,
                  "the second run to queue its digests")
            time.sleep(1.0)  # the first digest is now on its way
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            robots.delay = 0.0
            left = [r for r in ledger(second_day.date()) if r.status is not DeliveryStatus.SENT]
            assert left, "the kill came too late to test anything"

            # 3. Another worker; the day's run again: what was left is sent, nothing is queued twice.
            worker = start_worker(api, fresh_db, home, log)
            rerun = trigger(api, second_day)
            until(lambda: state(api, rerun) in ("COMPLETED", "FAILED", "CRASHED"), 240, "the run after the kill")
            assert state(api, rerun) == "COMPLETED", log.read_text(errors="replace")[-3000:]
            rows = ledger(second_day.date())
            assert rows and all(r.status is DeliveryStatus.SENT for r in rows)
            assert max(Counter((r.recipient, r.kind, r.reason) for r in rows).values()) == 1
            expected = Counter(keys[r.unit_id] for r in rows if r.unit_id in keys)
            sent_after = Counter(r["query"].get("key") for r in robots.of("wecombot")[before:])
            # Every unit digest of the day arrived; at most the one in flight at the kill arrived twice
            # (delivery is at-least-once), no other.
            assert set(sent_after) == set(expected) and expected
            assert sum(sent_after.values()) - sum(expected.values()) in (0, 1)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
