"""A problem's beginning: its code (问题编号) and its record, in whichever state it starts.

The moves after that are in models.lifecycle; this module uses its rules (who may record,
the default unit of a place, the deadline) and writes the first event through the same path."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rectify.models.calendar import WorkCalendar, local_date
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Action, Role, Severity, Status, Supervision
from rectify.models.errors import InvalidInput, PermissionDenied
from rectify.models.inspections import Inspection
from rectify.models.issues import Issue, IssueCodeCounter, IssueEvent
from rectify.models.lifecycle import RECORD_ROLES, required_text
from rectify.models.org import Unit, User
from rectify.models.policy import Policy
from rectify.models.responsibility import PlaceRef, check_unit_may_take, due_date


def reserve_codes(session: Session, *, prefix: str, year: int, count: int = 1) -> list[str]:
    """Hand out the next `count` GZ-2016-00042 style codes; safe under concurrent writers."""
    last = session.execute(
        update(IssueCodeCounter)
        .where(IssueCodeCounter.prefix == prefix, IssueCodeCounter.year == year)
        .values(last=IssueCodeCounter.last + count)
        .returning(IssueCodeCounter.last)
    ).scalar_one_or_none()
    if last is None:
        try:
            with session.begin_nested():
                session.execute(insert(IssueCodeCounter).values(prefix=prefix, year=year, last=count))
            last = count
        except IntegrityError:
            return reserve_codes(session, prefix=prefix, year=year, count=count)
    return [f"{prefix}-{year}-{n:05d}" for n in range(last - count + 1, last + 1)]


def record_issue(
    session: Session,
    *,
    actor: User,
    now: datetime,
    policy: Policy,
    calendar: WorkCalendar,
    place: PlaceRef,
    item: CheckItem,
    description: str,
    severity: Severity,
    inspection: Inspection | None = None,
    external_ref: str | None = None,
    unit: Unit | None = None,
    deadline: date | int | None = None,
    on_site_note: str | None = None,
    cosigner: User | None = None,
    good_practice: bool = False,
    code: str | None = None,
    flush: bool = True,
) -> Issue:
    """Record a finding: resolved on site (co-signed), assigned (unit known) or in triage.

    A batch (the workbook import) passes codes it reserved and flushes once per batch.
    """
    if actor.role not in RECORD_ROLES:
        raise PermissionDenied(
            f"用户 {actor.name}({actor.role.label})无权登记问题;需要:"
            + "、".join(r.label for r in sorted(RECORD_ROLES))
        )
    description = required_text(description, "问题描述")
    place.check_level(item)
    if on_site_note is not None:
        on_site_note = required_text(on_site_note, "现场解决情况")
        if cosigner is None:
            raise InvalidInput("现场解决必须由督导组组长会签", field="cosign")
        if cosigner.role is not Role.TEAM_LEADER:
            raise PermissionDenied(f"会签人 {cosigner.name} 不是督导组组长({cosigner.role.label})")
        status = Status.RESOLVED_ON_SITE
    elif unit is not None:
        check_unit_may_take(unit, place.county)
        status = Status.ASSIGNED
    else:
        status = Status.TRIAGE
    if code is None:
        code = reserve_codes(session, prefix=policy.code_prefix, year=local_date(now).year)[0]
    if status is Status.ASSIGNED:
        deadline = due_date(code, deadline, now=now, severity=severity, calendar=calendar, policy=policy)
    issue = Issue(
        code=code,
        inspection=inspection,
        external_ref=external_ref,
        county=place.county,
        township=place.township,
        village=place.village,
        household=place.household,
        check_item=item,
        description=description,
        severity=severity,
        good_practice=good_practice,
        status=status,
        unit=unit if status is Status.ASSIGNED else None,
        original_deadline=deadline if status is Status.ASSIGNED else None,
        deadline=deadline if status is Status.ASSIGNED else None,
        supervision=Supervision.NORMAL,
        on_site_note=on_site_note,
        cosigned_by=cosigner,
        created_by=actor,
        created_at=now,
        reopen_count=0,
        sign_count=0,
        late_sign_count=0,
        extension_count=0,
        submit_count=0,
        return_count=0,
        version=1,
    )
    setattr(issue, f"{status.value}_at", now)
    session.add(issue)
    payload: dict[str, Any] = {}
    if status is Status.ASSIGNED:
        assert unit is not None and isinstance(deadline, date)  # record_issue resolved both for an assignment
        payload = {"unit": unit.name, "deadline": deadline.isoformat()}
    if cosigner is not None:
        payload["cosigned_by"] = cosigner.name
    if inspection is not None:
        payload["inspection"] = inspection.name
    event = IssueEvent(
        issue=issue,
        seq=issue.version,
        action=Action.RECORD.value,
        actor=actor,
        at=now,
        from_status=None,
        to_status=status,
        note=on_site_note,
        payload=payload,
    )
    session.add(event)
    if flush:
        session.flush()
    return issue
