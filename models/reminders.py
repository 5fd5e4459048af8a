"""Which open problems are due a reminder or an escalation at a moment, and who is told.

The policy's numbers (sign within, due soon, the 3 / 7 / 15 ladder) become threshold dates
once per run; each kind is then one SQL query over all open problems, compared with the
reminder cursors, so the work does not grow with the number of runs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, case, cast, exists, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from rectify.models.calendar import WorkCalendar, deadline_end, local_date
from rectify.models.catalogue import CheckItem
from rectify.models.deliveries import ReminderCursor
from rectify.models.enums import UNIT_CLOCK_STATUSES, MessageKind, Role, Status, Supervision, UnitKind
from rectify.models.issues import Issue, IssueAssist, IssueEvent
from rectify.models.org import Unit, User, prefecture_coordinator_ids
from rectify.models.overlays import days_to, waiting_since_before
from rectify.models.places import County, Household, Township, Village, place_text
from rectify.models.policy import Policy

RUNNING = tuple(sorted(UNIT_CLOCK_STATUSES))  # a submitted problem waits for its verifier, not its unit
LADDER = (Supervision.YELLOW, Supervision.RED, Supervision.LISTED)


@dataclass(frozen=True)
class Thresholds:
    today: date
    next_workday: date
    due_soon_until: date
    signed_by: datetime  # assigned before this and still unsigned: remind
    ladder: dict[Supervision, date]  # deadline on or before this: at least that level
    verify_late_before: datetime  # submitted before this and still waiting: past the 核验时限
    verify_escalate_before: datetime  # submitted before this and still waiting: the 督查办 is told
    verify_within_days: int  # the 核验时限 the messages quote

    @classmethod
    def at(cls, today: date, *, calendar: WorkCalendar, policy: Policy) -> Thresholds:
        return cls(
            today=today,
            next_workday=calendar.add_workdays(today, 1),
            due_soon_until=calendar.add_workdays(today, policy.due_soon_days),
            signed_by=deadline_end(calendar.back_workdays(today, policy.sign_within_days)),
            ladder={level: calendar.back_workdays(today, policy.escalation_days[level]) for level in LADDER},
            verify_late_before=waiting_since_before(today, policy.verify_within_days, calendar=calendar),
            verify_escalate_before=waiting_since_before(today, policy.verify_escalate_days, calendar=calendar),
            verify_within_days=policy.verify_within_days,
        )


@dataclass
class Due:
    """One problem due one kind of message."""

    kind: MessageKind
    issue_id: int
    code: str
    unit_id: int
    county_id: int
    item: dict  # what the message shows


def _columns():
    # Plain text and numbers: 100,000 rows need no enum or date objects.
    return (Issue.id, Issue.code, Issue.unit_id, Issue.county_id, cast(Issue.deadline, String(10)).label("deadline"),
            type_coerce(Issue.supervision, String).label("supervision"),
            County.name, Township.name, Village.name, Household.head_name, CheckItem.title)


def _joined(query):
    return (query.join(County, Issue.county_id == County.id).join(CheckItem, Issue.check_item_id == CheckItem.id)
            .outerjoin(Township, Issue.township_id == Township.id)
            .outerjoin(Village, Issue.village_id == Village.id)
            .outerjoin(Household, Issue.household_id == Household.id))


def _not_reminded(kind: MessageKind, condition):
    cursor = aliased(ReminderCursor)
    return ~exists().where(cursor.issue_id == Issue.id, cursor.kind == kind, condition(cursor))


_LEVEL_RANK = {level: rank for rank, level in enumerate(Supervision)}


def _flag(condition):
    return case((condition, 1), else_=0)


def due_rows(session: Session, t: Thresholds) -> list:
    """One query over the running problems: per problem, which reminders and which level are due."""
    sign = and_(Issue.status == Status.ASSIGNED, Issue.assigned_at < t.signed_by,
                _not_reminded(MessageKind.SIGN_REMINDER, lambda c: c.moved_at >= Issue.assigned_at))
    due_kind = case(
        (and_(Issue.deadline >= t.today, Issue.deadline <= t.next_workday,
              _not_reminded(MessageKind.DUE_TOMORROW, lambda c: c.on_date == Issue.deadline)),
         MessageKind.DUE_TOMORROW.value),
        (and_(Issue.deadline > t.next_workday, Issue.deadline <= t.due_soon_until,
              _not_reminded(MessageKind.DUE_SOON, lambda c: c.on_date == Issue.deadline)),
         MessageKind.DUE_SOON.value),
        else_=None)
    overdue = and_(Issue.deadline < t.today, _not_reminded(MessageKind.OVERDUE, lambda c: c.on_date >= t.today))
    target = case(*[(Issue.deadline <= t.ladder[level], level.value) for level in reversed(LADDER)], else_=None)
    current_rank = case(*[(Issue.supervision == level.value, rank) for level, rank in _LEVEL_RANK.items()])
    target_rank = case(*[(target == level.value, _LEVEL_RANK[level]) for level in LADDER], else_=-1)
    raise_it = and_(Issue.deadline <= t.ladder[Supervision.YELLOW], target_rank > current_rank)
    query = _joined(select(*_columns(), _flag(sign).label("sign"), due_kind.label("due_kind"),
                           _flag(overdue).label("overdue"), case((raise_it, target), else_=None).label("raise_to")))
    query = query.where(Issue.status.in_(RUNNING), Issue.unit_id.is_not(None), Issue.deadline.is_not(None),
                        or_(sign, due_kind.is_not(None), overdue, raise_it)).order_by(Issue.deadline, Issue.id)
    return list(session.execute(query).all())


def assisting_units(session: Session, issue_ids: list[int]) -> dict[int, list[int]]:
    """Per problem, its assisting units (协办): they hear of its reminders in their own digests."""
    found: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(issue_ids), 2000):
        for issue_id, unit_id in session.execute(select(IssueAssist.issue_id, IssueAssist.unit_id).where(
                IssueAssist.issue_id.in_(issue_ids[start:start + 2000]))):
            found[issue_id].append(unit_id)
    return found


def to_dues(rows: list, t: Thresholds, *, calendar: WorkCalendar) -> tuple[list[Due], dict[Supervision, list[Due]]]:
    """(reminders to units, problems to raise per level), each with what its message shows."""
    reminders: list[Due] = []
    raise_to: dict[Supervision, list[Due]] = defaultdict(list)
    if not rows:
        return reminders, {}
    first = min(date.fromisoformat(rows[0].deadline), t.today)
    last = max(date.fromisoformat(rows[-1].deadline), t.today)
    between = calendar.between_fn(first, last)
    days_of = {}
    day = first
    while day <= last:
        days_of[day.isoformat()] = between(t.today, day) if day >= t.today else -between(day, t.today)
        day += timedelta(days=1)
    labels = {level.value: (None if level is Supervision.NORMAL else level.label) for level in Supervision}
    kinds = {kind.value: kind for kind in MessageKind}
    levels = {level.value: level for level in LADDER}
    today = t.today.isoformat()
    for row in rows:
        place = place_text(row[6], row[7], row[8], row[9])
        base = {"issue_id": row.id, "code": row.code, "place": place, "item": row.title, "deadline": row.deadline,
                "days": days_of[row.deadline], "supervision": labels[row.supervision], "note": None, "cursor": None}
        key = (row.id, row.code, row.unit_id, row.county_id)
        if row.sign:
            reminders.append(Due(MessageKind.SIGN_REMINDER, *key, {**base, "cursor": today}))
        if row.due_kind:
            reminders.append(Due(kinds[row.due_kind], *key, {**base, "cursor": row.deadline}))
        if row.overdue:
            reminders.append(Due(MessageKind.OVERDUE, *key, {**base, "cursor": today}))
        if row.raise_to:
            level = levels[row.raise_to]
            raise_to[level].append(Due(kinds[row.raise_to], *key, {**base, "supervision": level.label}))
    return reminders, dict(raise_to)


def select_due(
    session: Session, t: Thresholds, *, calendar: WorkCalendar
) -> tuple[list[Due], dict[Supervision, list[Due]]]:
    return to_dues(due_rows(session, t), t, calendar=calendar)


def verification_dues(session: Session, t: Thresholds, *, calendar: WorkCalendar) -> list[Due]:
    """Submissions waiting past the 核验时限: a daily reminder to the verifiers, and once per
    submission, when the wait runs long, a notice to the 督查办. Never the unit's overdue."""
    late = and_(Issue.submitted_at < t.verify_late_before,
                _not_reminded(MessageKind.VERIFY_LATE, lambda c: c.on_date >= t.today))
    escalate = and_(Issue.submitted_at < t.verify_escalate_before,
                    _not_reminded(MessageKind.VERIFY_ESCALATED, lambda c: c.moved_at >= Issue.submitted_at))
    rows = session.execute(_joined(select(*_columns(), Issue.submitted_at, _flag(late).label("late"),
                                          _flag(escalate).label("escalate")))
                           .where(Issue.status == Status.SUBMITTED, or_(late, escalate))
                           .order_by(Issue.submitted_at, Issue.id)).all()
    dues = []
    today = t.today.isoformat()
    for row in rows:
        submitted = local_date(row.submitted_at)
        waited = calendar.workdays_between(submitted, t.today)
        verify_by = calendar.add_workdays(submitted, t.verify_within_days)
        item = {"issue_id": row.id, "code": row.code, "place": place_text(row[6], row[7], row[8], row[9]),
                "item": row.title, "deadline": None, "days": None, "supervision": None,
                "note": f"{submitted.isoformat()} 提交,核验时限 {verify_by.isoformat()},已等待 {waited} 个工作日",
                "cursor": today}
        key = (row.id, row.code, row.unit_id, row.county_id)
        if row.late:
            dues.append(Due(MessageKind.VERIFY_LATE, *key, dict(item)))
        if row.escalate:
            dues.append(Due(MessageKind.VERIFY_ESCALATED, *key, dict(item)))
    return dues


def escalation_recipients(session: Session) -> dict[Supervision, dict[int, list[int]]]:
    """Per level, per county id: the user ids told (黄牌 the county's leaders, 红牌 the linked
    prefecture leader, 挂牌督办 the prefecture coordinators and the linked leader)."""
    county_leaders: dict[int, list[int]] = defaultdict(list)
    for user_id, county_id in session.execute(
            select(User.id, Unit.county_id).join(Unit, User.unit_id == Unit.id)
            .where(User.role == Role.LEADER, User.active.is_(True), Unit.kind == UnitKind.COUNTY_GOVERNMENT)):
        county_leaders[county_id].append(user_id)
    linked: dict[int, list[int]] = defaultdict(list)
    for user_id, county_id in session.execute(
            select(User.id, User.linked_county_id)
            .where(User.role == Role.LEADER, User.active.is_(True), User.linked_county_id.is_not(None))):
        linked[county_id].append(user_id)
    prefecture = prefecture_coordinator_ids(session)
    counties = list(session.scalars(select(County.id)))
    return {
        Supervision.YELLOW: dict(county_leaders),
        Supervision.RED: dict(linked),
        Supervision.LISTED: {c: sorted(set(prefecture) | set(linked.get(c, []))) for c in counties},
    }


_EVENT_KINDS = {
    "assign": MessageKind.ASSIGNMENT,
    "reopen": MessageKind.REOPENED,
    "return": MessageKind.RETURNED,
    "verify": MessageKind.CLOSED,
    "approve_extension": MessageKind.EXTENSION_DECIDED,
    "deny_extension": MessageKind.EXTENSION_DECIDED,
}
_EVENT_NOTES = {"reopen": "回头看发现反弹,重新整改", "approve_extension": "同意延期", "deny_extension": "不同意延期"}


def event_notices(
    session: Session, *, since: datetime, until: datetime, today: date, calendar: WorkCalendar
) -> list[tuple[Due, int, date]]:
    """Steps between `since` and `until` that the unit must hear of: (due, event id, event day).

    A problem recorded straight into 已交办 by hand is an assignment too; one imported from a
    workbook is not, since the import queued its unit's notice already.
    """
    event = IssueEvent
    rows = session.execute(
        _joined(
            select(*_columns(), event.id.label("event_id"), event.action, event.at, event.note, event.payload).join(
                event, event.issue_id == Issue.id
            )
        )
        .where(
            event.action.in_([*_EVENT_KINDS, "record"]),
            event.at >= since,
            event.at <= until,
            Issue.unit_id.is_not(None),
            (event.action != "record") | ((event.to_status == Status.ASSIGNED) & Issue.inspection_id.is_(None)),
        )
        .order_by(event.id)
    ).all()
    notices = []
    for row in rows:
        kind = _EVENT_KINDS.get(row.action, MessageKind.ASSIGNMENT)
        deadline = date.fromisoformat(row.deadline) if row.deadline else None
        days = None
        if deadline is not None and kind is not MessageKind.CLOSED:
            days = days_to(deadline, today=today, calendar=calendar)
        note = row.note or _EVENT_NOTES.get(row.action)
        if row.action in ("approve_extension",) and row.payload.get("until"):
            note = f"同意延期至 {row.payload['until']}"
        place = place_text(row[6], row[7], row[8], row[9])
        item = {"issue_id": row.id, "code": row.code, "place": place, "item": row.title,
                "deadline": row.deadline, "days": days,
                "supervision": None, "note": note, "cursor": None}
        notices.append((Due(kind, row.id, row.code, row.unit_id, row.county_id, item), row.event_id,
                        local_date(row.at)))
    return notices
