"""The `send-reminders` Prefect flow: ask the channels that report reads about what is still
unread (falling back to the next channel when the time is up), queue what is due (reminders,
the escalation ladder, notices of recent steps) in one transaction, then deliver every
recipient's due rows as one digest. Three tasks, whatever the number of problems."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from rectify.flows.context import engine_for, unit_of_work
from rectify.flows.events import announce_many
from rectify.flows.reports.official import Clock, notice
from rectify.flows.runs import command_run
from rectify.models.burden import digests_today
from rectify.models.calendar import WorkCalendar, local_date
from rectify.models.db import rectify_home, session_factory
from rectify.models.deliveries import Recipient, unit_key, user_key
from rectify.models.enums import MessageKind, Supervision
from rectify.models.errors import NotFound
from rectify.models.lifecycle import escalate_many, resume_ended_pauses
from rectify.models.lookup import get_user
from rectify.models.org import SYSTEM_USER, Unit, county_coordinator_ids, prefecture_coordinator_ids, verifier_ids
from rectify.models.places import County
from rectify.models.policy import Policy
from rectify.models.referrals import refer
from rectify.models.reminders import (
    Thresholds,
    assisting_units,
    escalation_recipients,
    event_notices,
    select_due,
    verification_dues,
)
from rectify.notifications.ledger import Directory, Notice, days_left_on, deliver_to, due_recipients, queue
from rectify.notifications.receipts import ReadSummary, check_group, unread_groups
from rectify.notifications.send import RateLimiter

EVENT_WINDOW = timedelta(days=7)
REASONS = {
    MessageKind.SIGN_REMINDER: "未签收",
    MessageKind.DUE_SOON: "即将到期",
    MessageKind.DUE_TOMORROW: "今明到期",
    MessageKind.OVERDUE: "逾期",
    MessageKind.VERIFY_LATE: "核验超时",
    MessageKind.VERIFY_ESCALATED: "核验超时督办",
}


@dataclass
class RunSummary:
    day: str
    skipped: str | None = None
    due: Counter = field(default_factory=Counter)  # per kind
    escalated: Counter = field(default_factory=Counter)  # per level
    referrals: int = 0
    queued: int = 0
    recipients: int = 0
    delivered: int = 0
    failed: list[str] = field(default_factory=list)
    reads: ReadSummary = field(default_factory=ReadSummary)
    held: int = 0  # units at their day's cap of digests: theirs wait for the next day
    resumed: int = 0  # paused problems whose day came: their clock runs again


def message_numbers(policy: Policy) -> dict[str, int]:
    """The policy's numbers the templates quote."""
    return {"sign_within_days": policy.sign_within_days, "due_soon_days": policy.due_soon_days,
            "verify_within_days": policy.verify_within_days, "verify_escalate_days": policy.verify_escalate_days,
            **{level.value: policy.escalation_days[level] for level in (Supervision.YELLOW, Supervision.RED,
                                                                        Supervision.LISTED)}}


def queue_due(now: datetime, summary: RunSummary) -> None:
    """Escalate, record referrals and queue every notice due at `now`, in one transaction."""
    with unit_of_work(now) as ctx:
        session, today = ctx.session, ctx.today
        system = get_user(session, SYSTEM_USER)
        summary.resumed = len(resume_ended_pauses(session, actor=system, now=now, calendar=ctx.calendar))
        thresholds = Thresholds.at(today, calendar=ctx.calendar, policy=ctx.policy)
        reminders, raise_to = select_due(session, thresholds, calendar=ctx.calendar)
        counties = dict(session.execute(select(County.id, County.name)).tuples().all())
        recipients = escalation_recipients(session)
        notices: list[Notice] = []
        raised_to: dict[int, Supervision] = {}
        for level, dues in raise_to.items():
            days = ctx.policy.escalation_days[level]
            raised = set(escalate_many(session, [d.issue_id for d in dues], level=level, actor=system, now=now,
                                       note=f"逾期满 {days} 个工作日,自动升级为{level.label}"))
            summary.escalated[level.label] += len(raised)
            by_county: dict[int, list[dict]] = defaultdict(list)
            for due in dues:
                if due.issue_id in raised:
                    raised_to[due.issue_id] = level
                    by_county[due.county_id].append(due.item)
            announce_many(session, "escalate", now, {counties[c]: [i["code"] for i in items]
                                                     for c, items in by_county.items()}, to=level.value, auto=True)
            for county_id, items in by_county.items():
                for user_id in recipients[level].get(county_id, []):
                    notices.append(Notice(user_key(user_id), MessageKind(level.value), "升级", today, items))
            if level is Supervision.LISTED and raised:
                summary.referrals += refer(
                    session, raised, reason="listed", now=now, note="逾期升级为挂牌督办,移交问责线索"
                )
        grouped: dict[tuple[int, MessageKind], list[dict]] = defaultdict(list)
        overdue: dict[str, list[str]] = defaultdict(list)
        assists = assisting_units(session, [due.issue_id for due in reminders])
        for due in reminders:
            if due.issue_id in raised_to:
                due.item["supervision"] = raised_to[due.issue_id].label
            for unit_id in (due.unit_id, *assists.get(due.issue_id, ())):
                grouped[(unit_id, due.kind)].append(due.item)
            summary.due[due.kind.label] += 1
            if due.kind is MessageKind.OVERDUE:
                overdue[counties[due.county_id]].append(due.code)
        announce_many(session, "overdue", now, overdue)
        notices += [Notice(unit_key(unit_id), kind, REASONS[kind], today, items)
                    for (unit_id, kind), items in grouped.items()]
        notices += _verification_notices(session, thresholds, ctx.calendar, summary)
        for due, event_id, day in event_notices(session, since=now - EVENT_WINDOW, until=now, today=today,
                                                    calendar=ctx.calendar):
            notices.append(Notice(unit_key(due.unit_id), due.kind, f"event:{event_id}", day, [due.item]))
        summary.queued = queue(session, notices, now=now)


def _verification_notices(session, thresholds: Thresholds, calendar, summary: RunSummary) -> list[Notice]:
    """Submissions past the 核验时限: the verifiers are told daily; the county's 督查办 and the
    prefecture's coordinators once per submission when the wait runs long."""
    verifiers = verifier_ids(session)
    coordinators = county_coordinator_ids(session)
    prefecture = prefecture_coordinator_ids(session)
    grouped: dict[tuple[int, MessageKind], list[dict]] = defaultdict(list)
    for due in verification_dues(session, thresholds, calendar=calendar):
        told = verifiers if due.kind is MessageKind.VERIFY_LATE else sorted(
            set(coordinators.get(due.county_id, [])) | set(prefecture))
        for user_id in told:
            grouped[(user_id, due.kind)].append(due.item)
        summary.due[due.kind.label] += 1
    return [Notice(user_key(user_id), kind, REASONS[kind], thresholds.today, items)
            for (user_id, kind), items in grouped.items()]


def assignment_documents(now: datetime, calendar: WorkCalendar, policy: Policy):
    """What an e-mail to a unit carries: the 整改通知书 of each day's assignments it announces."""
    clock = Clock(now, calendar, policy)
    folder = rectify_home() / "documents" / local_date(now).isoformat()

    def make(session, rows: list) -> list[Path]:
        recipient = Recipient.parse(rows[0].recipient)
        unit = session.get(Unit, recipient.id) if recipient.kind == "unit" else None
        if unit is None:
            return []
        paths = []
        for day in sorted({r.day for r in rows if r.kind is MessageKind.ASSIGNMENT}):
            try:
                paths.append(notice(session, unit, folder / f"整改通知书-{unit.name}-{day.isoformat()}.docx",
                                    clock=clock, day=day).path)
            except NotFound:  # announced, then voided or re-assigned before the run
                continue
        return paths

    return make


def deliver_due(now: datetime, summary: RunSummary) -> None:
    """Each recipient's due rows, one digest, in a transaction of its own."""
    limiter = RateLimiter()
    outbox = rectify_home() / "outbox"
    with unit_of_work(now) as ctx:
        recipients = due_recipients(ctx.session, now=now)
        # 基层减负: a unit that had its day's digests waits for the next day's run.
        received = digests_today(ctx.session, today=ctx.today)
        held = [r for r in recipients if received.get(r, 0) >= ctx.policy.reminders_per_unit_per_day]
        recipients = [r for r in recipients if r not in held]
        summary.held = len(held)
        numbers = message_numbers(ctx.policy)
        directory = Directory.load(ctx.session)
        days_left = days_left_on(ctx.today, ctx.calendar)
        documents = assignment_documents(now, ctx.calendar, ctx.policy)
    for outcome in _each_recipient(now, recipients, outbox, limiter, numbers, directory, days_left, documents):
        if outcome is None:
            continue
        summary.recipients += 1
        if outcome.ok:
            summary.delivered += outcome.rows
        else:
            summary.failed.append(f"{outcome.recipient}:{outcome.attempts[-1].detail}")


def _each_recipient(now: datetime, recipients: list[str], outbox, limiter: RateLimiter, numbers: dict,
                    directory: Directory, days_left, documents):
    """One session for the loop; one transaction (begun, committed) per recipient."""
    with session_factory(engine_for())() as session:
        for recipient in recipients:
            with session.begin():
                outcome = deliver_to(session, recipient, now=now, outbox=outbox, limiter=limiter, policy=numbers,
                                     directory=directory, days_left=days_left, documents=documents)
            session.expunge_all()
            yield outcome


def check_reads(now: datetime, summary: ReadSummary) -> None:
    """Every group of rows sent on a channel that reports reads and not yet read: one
    transaction each (a slow service delays, never blocks, the others)."""
    with unit_of_work(now) as ctx:
        groups = unread_groups(ctx.session)
        if not groups:
            return
        numbers = message_numbers(ctx.policy)
        directory = Directory.load(ctx.session)
        days_left = days_left_on(ctx.today, ctx.calendar)
        calendar, hours = ctx.calendar, ctx.policy.unread_fallback_hours
    limiter, outbox = RateLimiter(), rectify_home() / "outbox"
    with session_factory(engine_for())() as session:
        for recipient, sent_at in groups:
            with session.begin():
                check_group(session, recipient, sent_at, now=now, calendar=calendar, fallback_hours=hours,
                            numbers=numbers, directory=directory, days_left=days_left, outbox=outbox,
                            limiter=limiter, summary=summary)
            session.expunge_all()


@task(name="check-reads", cache_policy=NO_CACHE)
def _reads_task(now: datetime, summary: RunSummary) -> None:
    check_reads(now, summary.reads)


@task(name="queue-due", cache_policy=NO_CACHE)
def _queue_task(now: datetime, summary: RunSummary) -> None:
    queue_due(now, summary)


@task(name="deliver", cache_policy=NO_CACHE, retries=0)
def _deliver_task(now: datetime, summary: RunSummary) -> None:
    deliver_due(now, summary)


def run_reminders(now: datetime, *, force: bool = False, with_tasks: bool = True) -> RunSummary:
    """The whole run, as the flow does it (with_tasks=False calls the same steps directly)."""
    with unit_of_work(now) as ctx:
        summary = RunSummary(day=ctx.today.isoformat())
        if not force and not ctx.calendar.is_workday(ctx.today):
            summary.skipped = f"{ctx.today} 不是工作日,不发送提醒"
            return summary
    if with_tasks:
        _reads_task(now, summary)
        _queue_task(now, summary)
        _deliver_task(now, summary)
    else:
        check_reads(now, summary.reads)
        queue_due(now, summary)
        deliver_due(now, summary)
    return summary


@flow(name="send-reminders")
def send_reminders(now: datetime | None = None, force: bool = False) -> RunSummary:
    now = now or datetime.now(UTC)
    summary = run_reminders(now, force=force)
    logger = get_run_logger()
    if summary.skipped:
        logger.info(summary.skipped)
    else:
        logger.info(
            "提醒:排队 %s 条,送达 %s 条,失败 %s 个收件人", summary.queued, summary.delivered, len(summary.failed)
        )
    _publish(summary)
    return summary


def _publish(summary: RunSummary) -> None:
    rows: list[dict[str, object]] = [{"项目": "日期", "值": summary.day}]
    if summary.skipped:
        rows.append({"项目": "跳过", "值": summary.skipped})
    rows += [{"项目": f"到期提醒:{kind}", "值": n} for kind, n in summary.due.items()]
    rows += [{"项目": f"升级:{level}", "值": n} for level, n in summary.escalated.items()]
    rows += [{"项目": "暂缓期满、自动恢复整改", "值": summary.resumed},
             {"项目": "问责线索", "值": summary.referrals}, {"项目": "新排队消息", "值": summary.queued},
             {"项目": "收件人", "值": summary.recipients}, {"项目": "送达条数", "值": summary.delivered},
             {"项目": "已读确认", "值": summary.reads.read},
             {"项目": "未读改发下一渠道", "值": summary.reads.fell_back},
             {"项目": "已达当日提醒上限、顺延的单位", "值": summary.held}]
    rows += [{"项目": "发送失败", "值": f} for f in summary.failed[:100]]
    create_table_artifact(rows, key="send-reminders-summary", description=f"{summary.day} 提醒与督办")


def run_flow(now: datetime, *, force: bool = False) -> RunSummary:
    with command_run("reminders"):
        return send_reminders(now, force=force)
