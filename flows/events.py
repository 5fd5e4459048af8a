"""Every step of a problem also becomes a Prefect event on the resource `rectify.issue.<code>`,
so the Prefect UI's event feed shows each problem's trail and automations can react to
`rectify.issue.escalate`, `rectify.issue.verify` and so on.

What a scheduled run does to many problems at once (the morning's ladder, the overdue list)
is a bounded number of events instead: `rectify.issues.<action>` on the resource
`rectify.county.<县>`, one per county and at most BATCH problems, naming the codes in the
payload. Sent one by one, the 59,000 escalations of a worst morning took 2 min 40 s.

Best effort, after the commit: the database stays the record. Events are sent only when a
Prefect server is configured (PREFECT_API_URL); Prefect's events worker sends them from a
background thread, so a server that is down never blocks or fails the user's action.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from rectify.models.issues import IssueEvent

log = logging.getLogger("rectify.events")
KEY = "rectify.announce"


def announce(session: Session, code: str, action: str, at: datetime, **payload: Any) -> None:
    """Queue an event to send once `session` commits (for steps written in bulk, outside the ORM)."""
    payload["at"] = at.isoformat()  # the step's own time (it may be --as-of); the event occurs now
    session.info.setdefault(KEY, []).append({"event": f"rectify.issue.{action}", "resource": f"rectify.issue.{code}",
                                             "name": code, "payload": payload})


BATCH = 1000  # problem codes one bulk event names


def announce_many(session: Session, action: str, at: datetime, codes_by_county: dict[str, list[str]],
                  **payload: Any) -> None:
    """Queue the bulk events of one action: per county, BATCH codes at most each."""
    for county, codes in sorted(codes_by_county.items()):
        for start in range(0, len(codes), BATCH):
            chunk = codes[start:start + BATCH]
            session.info.setdefault(KEY, []).append({
                "event": f"rectify.issues.{action}", "resource": f"rectify.county.{county}", "name": county,
                "payload": {**payload, "at": at.isoformat(), "county": county, "count": len(chunk), "codes": chunk}})


def enabled() -> bool:
    return bool(os.environ.get("PREFECT_API_URL"))


@sa_event.listens_for(Session, "after_flush")
def _collect(session: Session, _context) -> None:
    if not enabled():
        return
    for item in session.new:
        if isinstance(item, IssueEvent) and item.issue is not None:
            announce(session, item.issue.code, item.action, item.at, actor=item.actor.name if item.actor else None,
                     **{"from": item.from_status.value if item.from_status else None, "to": item.to_status.value,
                        "county": item.issue.county.name if item.issue.county else None,
                        "unit": item.issue.unit.name if item.issue.unit else None})


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(KEY, None)


_reachable: dict[str, bool] = {}


def _server_up(api: str) -> bool:
    """Asked once per process, in half a second at most: Prefect's events worker would otherwise
    retry a dead server for seconds when the process exits."""
    if api not in _reachable:
        import httpx  # only when a Prefect server is configured

        try:
            _reachable[api] = httpx.get(f"{api.rstrip('/')}/health", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            _reachable[api] = False
        if not _reachable[api]:
            log.warning("Prefect server %s does not answer; problem events are not sent to it", api)
    return _reachable[api]


def publish(session: Session) -> int:
    """Send what the committed transaction announced; returns how many were handed to Prefect."""
    items = session.info.pop(KEY, [])
    if not items or not enabled() or not _server_up(os.environ["PREFECT_API_URL"]):
        return 0
    try:
        from prefect.events import emit_event

        for item in items:
            emit_event(event=item["event"], payload=item["payload"],
                       resource={"prefect.resource.id": item["resource"], "prefect.resource.name": item["name"]})
    except Exception as exc:  # noqa: BLE001 - best effort by design; the database is the record
        log.warning("Prefect events not sent (%s): %s", type(exc).__name__, exc)
        return 0
    return len(items)
