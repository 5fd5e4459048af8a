"""Lifecycle steps reach Prefect's event feed as rectify.issue.<code> events; a Prefect server
that is down changes nothing for the user."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
from webworld import DAY0, build

from rectify.flows import issue_actions as act
from rectify.flows.context import unit_of_work


def events_of(api: str, code: str, want: int) -> list[dict]:
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    body = {"filter": {"occurred": {"since": since}, "resource": {"id": [f"rectify.issue.{code}"]}}, "limit": 50}
    found: list[dict] = []
    for _ in range(100):
        found = httpx.post(f"{api}/events/filter", json=body, timeout=10).json()["events"]
        if len(found) >= want:
            break
        time.sleep(0.2)
    return sorted(found, key=lambda e: e["payload"]["at"])


def test_each_step_is_an_event_on_the_problem(fresh_db, prefect_harness, monkeypatch):
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    monkeypatch.setenv("PREFECT_API_URL", api)
    world = build(fresh_db)
    code = world.codes["triage"]
    with unit_of_work(DAY0 + timedelta(hours=1), url=fresh_db) as ctx:
        act.assign(ctx, code, actor=world.coordinator, unit=world.unit)
    with unit_of_work(DAY0 + timedelta(hours=2), url=fresh_db) as ctx:
        act.sign(ctx, code, actor=world.handler)
    EventsWorker.drain_all()
    events = events_of(api, code, 3)
    assert [e["event"] for e in events] == ["rectify.issue.record", "rectify.issue.assign", "rectify.issue.sign"]
    assert events[2]["payload"]["to"] == "rectifying" and events[2]["payload"]["unit"] == world.unit
    assert events[0]["resource"]["prefect.resource.name"] == code


def test_a_prefect_server_that_is_down_blocks_nothing(fresh_db, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    world = build(fresh_db)
    code = world.codes["assigned"]
    started = time.monotonic()
    with unit_of_work(DAY0 + timedelta(hours=1), url=fresh_db) as ctx:
        act.sign(ctx, code, actor=world.handler)
    assert time.monotonic() - started < 5
    with unit_of_work(DAY0, url=fresh_db) as ctx:
        from rectify.models.lookup import get_issue

        assert get_issue(ctx.session, code).status.value == "rectifying"
