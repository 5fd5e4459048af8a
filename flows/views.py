"""Problems as plain data: the stable JSON shape the CLI prints (documented in docs/cli.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from rectify.models.calendar import WorkCalendar
from rectify.models.enums import Status
from rectify.models.issues import Issue, IssueEvent
from rectify.models.overlays import traffic_light, verification_late_days, verify_by, workdays_left
from rectify.models.places import mask_name
from rectify.models.policy import Policy


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def event_to_dict(event: IssueEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": _iso(event.at),
        "action": event.action,
        "actor": event.actor.name if event.actor else None,
        "from": event.from_status.value if event.from_status else None,
        "to": event.to_status.value,
        "note": event.note,
        "payload": event.payload,
        "evidence": [
            {"name": e.name, "sha256": e.sha256, "size": e.size, "media_type": e.media_type}
            for e in event.evidence
        ],
    }


def issue_to_dict(
    issue: Issue, *, today: date, calendar: WorkCalendar, policy: Policy, with_events: bool = True
) -> dict[str, Any]:
    light = traffic_light(issue, today=today, calendar=calendar, policy=policy)
    data: dict[str, Any] = {
        "code": issue.code,
        "status": issue.status.value,
        "status_label": issue.status.label,
        "severity": issue.severity.value,
        "inspection": issue.inspection.name if issue.inspection else None,
        "external_ref": issue.external_ref,
        "county": issue.county.name,
        "township": issue.township.name if issue.township else None,
        "village": issue.village.name if issue.village else None,
        "household": issue.household.registry_no if issue.household else None,
        "household_head": mask_name(issue.household.head_name) if issue.household else None,
        "item": {
            "code": issue.check_item.code,
            "title": issue.check_item.title,
            "category": issue.check_item.category,
            "level": issue.check_item.level.value,
        },
        "description": issue.description,
        "unit": issue.unit.name if issue.unit else None,
        "assisting_units": [u.name for u in issue.assisting_units],
        "stages": [{"seq": st.seq, "title": st.title, "deadline": _iso(st.deadline), "state": st.state,
                    "state_label": st.state_label, "submitted_at": _iso(st.submitted_at),
                    "verified_at": _iso(st.verified_at), "on_time": st.on_time,
                    "late": st.state != "verified" and st.deadline < today} for st in issue.stages],
        "stage_progress": issue.stage_progress,
        "original_deadline": _iso(issue.original_deadline),
        "deadline": _iso(issue.deadline),
        "extension_requested_until": _iso(issue.extension_requested_until),
        "pause_requested_until": _iso(issue.pause_requested_until),
        "paused_on": _iso(issue.paused_on),
        "paused_until": _iso(issue.paused_until),
        "paused_workdays": issue.paused_workdays or 0,
        "workdays_left": workdays_left(issue, today=today, calendar=calendar),
        "traffic_light": light.value if light else None,
        "verify_by": _iso(verify_by(issue.submitted_at, calendar=calendar, policy=policy))
        if issue.status is Status.SUBMITTED and issue.submitted_at else None,
        "verification_late_days": verification_late_days(issue, today=today, calendar=calendar, policy=policy),
        "supervision_level": issue.supervision.value,
        "measures": issue.measures,
        "cause": issue.cause,
        "spread": issue.spread_note,
        "rules": issue.rules_note,
        "on_site_note": issue.on_site_note,
        "reopen_count": issue.reopen_count,
        "created_at": _iso(issue.created_at),
        "closed_at": _iso(issue.closed_at),
        "version": issue.version,
    }
    if with_events:
        data["events"] = [event_to_dict(e) for e in issue.events]
    return data
