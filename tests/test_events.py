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


def test_a_reminder_morning_sends_bounded_events_per_county_naming_the_problems(fresh_db, prefect_harness,
                                                                                 monkeypatch):
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL

    from rectify.flows import events
    from rectify.flows.reminders import RunSummary, queue_due

    api = PREFECT_API_URL.value()
    monkeypatch.setenv("PREFECT_API_URL", api)
    monkeypatch.setattr(events, "BATCH", 2)
    world = build(fresh_db)
    late = DAY0 + timedelta(days=60)  # every assigned problem long overdue: the ladder raises them all
    summary = RunSummary(day=late.date().isoformat())
    queue_due(late, summary)
    EventsWorker.drain_all()
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    body = {"filter": {"occurred": {"since": since}, "resource": {"id": [f"rectify.county.{world.county}"]}},
            "limit": 50}
    found: list[dict] = []
    for _ in range(100):
        found = httpx.post(f"{api}/events/filter", json=body, timeout=10).json()["events"]
        if {"rectify.issues.escalate", "rectify.issues.overdue"} <= {e["event"] for e in found}:
            break
        time.sleep(0.2)
    overdue = sorted(c for e in found if e["event"] == "rectify.issues.overdue" for c in e["payload"]["codes"])
    escalated = [e for e in found if e["event"] == "rectify.issues.escalate"]
    expected = sorted(world.codes[k] for k in ("assigned", "assigned2", "household", "other"))
    assert overdue == expected and sum(summary.escalated.values()) == len(expected)
    assert all(e["payload"]["count"] == len(e["payload"]["codes"]) <= 2 for e in found)
    assert sorted(c for e in escalated for c in e["payload"]["codes"]) == expected
    # One problem's own feed stays for the single steps: the bulk morning is not repeated there.
    own = {e["event"] for e in events_of(api, world.codes["assigned"], 1)}
    assert "rectify.issue.record" in own and not own & {"rectify.issue.escalate", "rectify.issue.overdue"}
