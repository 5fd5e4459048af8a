"""The feedback report (反馈意见) read at the meeting after an inspection: what was checked,
the problems by category with examples, the good practices, and who must rectify what by when."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from rectify.flows.reminders import message_numbers
from rectify.models.calendar import WorkCalendar, local_date, moment_text
from rectify.models.enums import Result, Status
from rectify.models.figures import figures
from rectify.models.inspections import Finding, Inspection
from rectify.models.issues import Issue
from rectify.models.places import place_of
from rectify.models.policy import Policy
from rectify.models.spread import analyses
from rectify.notifications.messages import render_page

EXAMPLES = 3


def feedback_report(session: Session, inspection: Inspection, *, now: datetime, calendar: WorkCalendar,
                    policy: Policy) -> str:
    by_result = dict(session.execute(
        select(Finding.result, func.count()).where(Finding.inspection_id == inspection.id)
        .group_by(Finding.result)).tuples().all())
    villages = session.scalar(select(func.count(Finding.village_id.distinct()))
                              .where(Finding.inspection_id == inspection.id)) or 0
    households = session.scalar(select(func.count(Finding.household_id.distinct()))
                                .where(Finding.inspection_id == inspection.id)) or 0
    issues = list(session.scalars(
        select(Issue).options(selectinload(Issue.county), selectinload(Issue.township), selectinload(Issue.village),
                              selectinload(Issue.check_item), selectinload(Issue.unit))
        .where(Issue.inspection_id == inspection.id, Issue.status != Status.VOID).order_by(Issue.id)))
    categories: dict[str, list[Issue]] = defaultdict(list)
    for issue in issues:
        categories[issue.check_item.category].append(issue)
    groups = [{"category": name, "count": len(items),
               "examples": [{"place": place_of(i), "description": i.description, "severity": i.severity.label}
                            for i in items[:EXAMPLES]]}
              for name, items in sorted(categories.items(), key=lambda kv: -len(kv[1]))]
    good = [{"place": place_of(f), "note": f.note} for f in session.scalars(
        select(Finding).options(selectinload(Finding.county), selectinload(Finding.township),
                                selectinload(Finding.village))
        .where(Finding.inspection_id == inspection.id, Finding.result == Result.GOOD).order_by(Finding.id))]
    units: dict[str, list[date]] = defaultdict(list)
    for issue in issues:
        if issue.unit is not None and issue.deadline is not None:
            units[issue.unit.name].append(issue.deadline)
    unit_rows = [{"name": name, "count": len(items), "first": min(items).isoformat(), "last": max(items).isoformat()}
                 for name, items in sorted(units.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    dates = [d for d in (inspection.start_date, inspection.end_date) if d]
    period = dates[0].isoformat() if dates else local_date(now).isoformat()
    if len(dates) == 2 and dates[0] != dates[1]:
        period = f"{dates[0]} 至 {dates[1]}"
    # The counts of problems are the figures' (models.figures), at the same moment.
    counted = next((r for r in figures(session, by="inspection", as_of=now, calendar=calendar, policy=policy)
                    if r.key == inspection.name), None)
    coverage = {"villages": villages, "households": households, "checks": sum(by_result.values()),
                "passed": by_result.get(Result.PASS, 0), "problems": counted.total if counted else 0,
                "on_site": counted.resolved_on_site if counted else 0, "good": by_result.get(Result.GOOD, 0)}
    return render_page("feedback.md.j2", inspection=inspection.name,
                       county=inspection.county.name if inspection.county else "各县(市)",
                       team=inspection.team or inspection.name, period=period, coverage=coverage,
                       categories=groups, good=good, units=unit_rows, policy=message_numbers(policy),
                       analyses=analyses(session, inspection_id=inspection.id),
                       today=moment_text(now))


def write_feedback(session: Session, inspection: Inspection, out: Path, *, now: datetime, calendar: WorkCalendar,
                   policy: Policy) -> None:
    out.write_text(feedback_report(session, inspection, now=now, calendar=calendar, policy=policy) + "\n",
                   encoding="utf-8")
