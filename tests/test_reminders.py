"""Reminders, the escalation ladder and the delivery ledger on a real database, delivering
to local stand-ins: who is told what on which day, once."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from samples import ANALYSIS, image
from sqlalchemy import select
from standins import DINGTALK_TOO_FAST, Mailbox, Robots
from typer.testing import CliRunner

from rectify.flows import issue_actions as act
from rectify.flows.cli import app
from rectify.flows.context import unit_of_work
from rectify.flows.reminders import RunSummary, queue_due, run_reminders
from rectify.models.calendar import SHANGHAI
from rectify.models.deliveries import Channel, Delivery, ReminderCursor
from rectify.models.enums import DeliveryStatus, MessageKind, Supervision
from rectify.models.issues import Issue, IssueEvent
from rectify.models.lookup import get_unit
from rectify.models.places import County, Township, Village
from rectify.models.referrals import Referral

COUNTY = "色达县"
ASSIGNED_AT = datetime(2016, 8, 22, 10, 0, tzinfo=SHANGHAI)
TOKEN = "d1a2b3c4e5f60718293a4b5c6d7e8f90"
runner = CliRunner()


def at(day: date, hour: int = 8, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture()
def problem(fresh_db):
    """One 严重 problem of 色达县 assigned on Monday 2016-08-22 to its village's 帮扶单位 (3 working days)."""
    with unit_of_work(ASSIGNED_AT) as ctx:
        village = ctx.session.scalars(select(Village).join(Township).join(County).where(County.name == COUNTY)
                                      .order_by(Village.id)).first()
        issue = act.record(ctx, actor="督导员14", county=COUNTY, village=village.name, item="作战图",
                           description="作战图未上墙", severity="严重", unit=village.assisting_unit.name)
        return {"code": issue.code, "unit": village.assisting_unit.name, "unit_id": village.assisting_unit.id,
                "deadline": issue.deadline, "id": issue.id}


def add_channel(unit: str, url: str, priority: int) -> None:
    with unit_of_work(ASSIGNED_AT) as ctx:
        ctx.session.add(Channel(unit=get_unit(ctx.session, unit), url=url, kind="x", priority=priority, active=True,
                                created_at=ctx.now))


def told(day: date) -> set[tuple[str, str]]:
    """(recipient name, kind) of every delivery sent for `day`."""
    with unit_of_work(at(day)) as ctx:
        rows = ctx.session.scalars(select(Delivery).where(Delivery.day == day, Delivery.status == DeliveryStatus.SENT))
        return {(row.unit.name if row.unit else row.user.name, row.kind.value) for row in rows}


def test_the_ladder_tells_each_person_on_the_right_day(problem, tmp_path):
    with unit_of_work(ASSIGNED_AT) as ctx:
        calendar = ctx.calendar
    deadline, unit = problem["deadline"], problem["unit"]
    assert deadline == calendar.add_workdays(ASSIGNED_AT.date(), 3)

    day1 = calendar.add_workdays(ASSIGNED_AT.date(), 1)
    run_reminders(at(day1), with_tasks=False)
    assert told(day1) == {(unit, "sign_reminder"), (unit, "due_soon")}
    assert (unit, "assignment") in told(ASSIGNED_AT.date())  # the assignment itself, dated its own day

    day2 = calendar.add_workdays(ASSIGNED_AT.date(), 2)
    run_reminders(at(day2), with_tasks=False)
    assert told(day2) == {(unit, "due_tomorrow")}  # signed-for reminder once, due-soon once

    run_reminders(at(deadline), with_tasks=False)
    assert told(deadline) == set()  # nothing new on the deadline day itself

    expected = {1: set(), 2: set(), 3: {("色达县领导", "yellow")}, 7: {("州领导13", "red")},
                15: {("州督查办", "listed"), ("州领导13", "listed")}}
    for n in range(1, 16):
        day = calendar.add_workdays(deadline, n)
        run_reminders(at(day), with_tasks=False)
        leaders = {t for t in told(day) if t[0] != unit}
        assert (unit, "overdue") in told(day), n
        assert leaders == expected.get(n, set()), (n, leaders)

    with unit_of_work(at(day)) as ctx:
        issue = ctx.session.scalars(select(Issue).where(Issue.code == problem["code"])).one()
        assert issue.supervision is Supervision.LISTED
        steps = [e.payload.get("to") for e in issue.events if e.action == "escalate"]
        assert steps == ["yellow", "red", "listed"]
        assert ctx.session.scalars(select(Referral).where(Referral.issue_id == issue.id)).one().reason == "listed"
    overdue_file = next((tmp_path / "home" / "outbox" / day.isoformat()).glob(f"{unit}-*.md")).read_text()
    assert problem["code"] in overdue_file and "挂牌督办" in overdue_file and "已逾期 15 个工作日" in overdue_file


def test_a_rejected_robot_message_falls_back_to_email(problem):
    with Robots() as robots, Mailbox() as mailbox:
        add_channel(problem["unit"], f"rdingtalk://{TOKEN}?api={robots.api}", 1)
        add_channel(problem["unit"], mailbox.url("danwei@example.com"), 2)
        robots.answers["dingtalk"].append(DINGTALK_TOO_FAST)
        day1 = date(2016, 8, 23)
        summary = run_reminders(at(day1), with_tasks=False)
        assert summary.delivered >= 2 and not summary.failed
        [mail] = mailbox.messages
        assert mail["to"] == ["danwei@example.com"] and mail["subject"].startswith(f"{problem['unit']}:")
        assert problem["code"] in mail["body"] and "签收" in mail["body"]
        assert len(robots.of("dingtalk")) == 1
        # The e-mail carries the 整改通知书 of the assignment it announces (a 公文, .docx).
        [(name, content)] = mail["attachments"].items()
        assert name == f"整改通知书-{problem['unit']}-2016-08-22.docx" and name in mail["body"]
        from io import BytesIO

        from docx import Document

        listed = [row.cells[1].text for row in Document(BytesIO(content)).tables[0].rows[1:]]
        assert listed == [problem["code"]]
    with unit_of_work(at(day1)) as ctx:
        row = ctx.session.scalars(select(Delivery).where(Delivery.kind == MessageKind.SIGN_REMINDER)).one()
        assert row.status is DeliveryStatus.SENT and row.channel.startswith("mailto://")
        first, second = row.result
        assert not first["ok"] and "130101" in first["detail"] and TOKEN not in first["channel"]
        assert second["ok"]


def test_running_twice_at_the_same_moment_delivers_once(problem):
    with Robots() as robots:
        add_channel(problem["unit"], f"rwecombot://key-1?api={robots.api}", 1)
        now = at(date(2016, 8, 23))
        first = run_reminders(now, with_tasks=False)
        second = run_reminders(now, with_tasks=False)
        later = run_reminders(now + timedelta(hours=3), with_tasks=False)
        assert len(robots.of("wecombot")) == 1
        assert first.queued >= 2 and second.queued == 0 and later.queued == 0 and second.delivered == 0


def test_a_crash_between_ledger_and_send_is_resumed_and_delivered_once(problem):
    with Robots() as robots:
        add_channel(problem["unit"], f"rwecombot://key-1?api={robots.api}", 1)
        now = at(date(2016, 8, 23))
        queue_due(now, RunSummary(day="2016-08-23"))  # the run dies right after the ledger commit
        with unit_of_work(now) as ctx:
            queued = ctx.session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.QUEUED)).all()
            assert {d.kind for d in queued} >= {MessageKind.SIGN_REMINDER, MessageKind.DUE_SOON}
            assert ctx.session.scalars(select(ReminderCursor)).all() == []  # nothing moves before a delivery
        assert robots.of("wecombot") == []
        resumed = run_reminders(now + timedelta(minutes=30), with_tasks=False)
        again = run_reminders(now + timedelta(minutes=40), with_tasks=False)
        assert len(robots.of("wecombot")) == 1 and resumed.delivered >= 2 and again.delivered == 0
        body = robots.of("wecombot")[0]["body"]["markdown"]["content"]
        # Due under 交办通知, 签收提醒 and 即将到期: named once, in the most urgent (签收提醒).
        assert body.count(f"[{problem['code']}]") == 1 and "### 签收提醒" in body
        assert "### 交办通知" not in body and "### 即将到期" not in body


def test_failures_are_retried_with_backoff_and_the_cursor_waits(problem):
    with Robots() as robots:
        add_channel(problem["unit"], f"rdingtalk://{TOKEN}?api={robots.api}", 1)
        robots.answers["dingtalk"].extend([DINGTALK_TOO_FAST, DINGTALK_TOO_FAST])
        now = at(date(2016, 8, 23))
        first = run_reminders(now, with_tasks=False)
        assert first.failed and "130101" in first.failed[0]
        with unit_of_work(now) as ctx:
            rows = ctx.session.scalars(select(Delivery)).all()
            assert {r.status for r in rows} == {DeliveryStatus.FAILED}
            assert {r.next_attempt_at for r in rows} == {now + timedelta(minutes=10)}
            assert ctx.session.scalars(select(ReminderCursor)).all() == []
        run_reminders(now + timedelta(minutes=5), with_tasks=False)
        assert len(robots.of("dingtalk")) == 1  # not yet due again
        run_reminders(now + timedelta(minutes=11), with_tasks=False)
        assert len(robots.of("dingtalk")) == 2
        with unit_of_work(now) as ctx:
            assert {r.next_attempt_at for r in ctx.session.scalars(select(Delivery))} == {
                now + timedelta(minutes=11 + 20)}
        failed = json.loads(runner.invoke(app, ["deliveries", "--failed", "--format", "json"]).stdout)
        assert failed and all("130101" in f["error"] and f["attempts"] == 2 for f in failed)
        done = run_reminders(now + timedelta(minutes=32), with_tasks=False)
        assert done.delivered >= 2 and len(robots.of("dingtalk")) == 3
        with unit_of_work(now) as ctx:
            total = len(ctx.session.scalars(select(Delivery)).all())
        cut = runner.invoke(app, ["deliveries", "--limit", "1"]).stdout
        assert total > 1 and f"共 {total} 条,只显示了最新的 1 条;用 --limit {total} 显示全部" in cut.replace("\n", "")
        whole = runner.invoke(app, ["deliveries"]).stdout
        assert f"共 {total} 条" in whole and "只显示了" not in whole
        with unit_of_work(now) as ctx:
            kinds = {c.kind for c in ctx.session.scalars(select(ReminderCursor))}
            assert kinds == {MessageKind.SIGN_REMINDER, MessageKind.DUE_SOON}
        # The next day the cursors hold: no second sign-for or due-soon reminder.
        run_reminders(at(date(2016, 8, 24)), with_tasks=False)
        content = robots.of("dingtalk")[-1]["body"]["markdown"]["text"]
        assert "签收提醒" not in content and "即将到期" not in content and "今明到期" in content


def test_a_long_digest_is_cut_for_wecom(fresh_db):
    with Robots() as robots:
        with unit_of_work(ASSIGNED_AT) as ctx:
            unit = get_unit(ctx.session, "色达县水务局")
            for n in range(40):
                act.record(ctx, actor="督导员14", county=COUNTY, item="减贫实施方案", description=f"第{n}项问题",
                           severity="一般", unit=unit.name)
        add_channel("色达县水务局", f"rwecombot://key-2?api={robots.api}", 1)
        run_reminders(at(date(2016, 8, 23)), with_tasks=False)
        content = robots.of("wecombot")[0]["body"]["markdown"]["content"]
        assert (
            len(content.encode()) <= 2048 and "另有" in content and "(http://127.0.0.1:8000/workbench)" in content
        )


def test_events_reach_the_unit_once(problem, tmp_path):
    photo = tmp_path / "作战图.png"
    photo.write_bytes(image(b"0"))
    with unit_of_work(at(date(2016, 8, 23), 9)) as ctx:
        act.sign(ctx, problem["code"], actor=f"{problem['unit']}经办人")
    with unit_of_work(at(date(2016, 8, 23), 10)) as ctx:
        act.submit(ctx, problem["code"], actor=f"{problem['unit']}经办人",
            **ANALYSIS, measures="已上墙", evidence=[photo])
    with unit_of_work(at(date(2016, 8, 23), 11)) as ctx:
        act.return_submission(ctx, problem["code"], actor="核验员01", reason="照片看不清")
    run_reminders(at(date(2016, 8, 23), 12), with_tasks=False)
    run_reminders(at(date(2016, 8, 23), 13), with_tasks=False)
    with unit_of_work(at(date(2016, 8, 23))) as ctx:
        returned = ctx.session.scalars(select(Delivery).where(Delivery.kind == MessageKind.RETURNED)).all()
        event = ctx.session.scalars(select(IssueEvent).where(IssueEvent.action == "return")).one()
    assert len(returned) == 1 and returned[0].reason == f"event:{event.id}"
    assert returned[0].context["items"][0]["note"] == "照片看不清"


def test_non_working_days_are_skipped_unless_forced(problem):
    sunday = date(2016, 8, 28)
    assert run_reminders(at(sunday), with_tasks=False).skipped
    assert not run_reminders(at(sunday), force=True, with_tasks=False).skipped


def test_the_cli_runs_the_flow_and_manages_channels(problem, prefect_harness):
    with Robots() as robots:
        robots.secrets[TOKEN] = "SEC-signing-0000000000"
        url = f"rdingtalk://{TOKEN}/SEC-signing-0000000000?api={robots.api}"
        added = runner.invoke(app, ["channel", "add", "--unit", problem["unit"], "--url", url, "--priority", "1"])
        assert added.exit_code == 0, added.output
        assert TOKEN not in added.stdout and "SEC-signing" not in added.stdout
        listed = json.loads(runner.invoke(app, ["channel", "list", "--format", "json"]).stdout)
        assert listed[0]["owner"] == problem["unit"] and TOKEN not in json.dumps(listed)
        tested = runner.invoke(app, ["channel", "test", str(listed[0]["id"])])
        assert tested.exit_code == 0 and "测试消息" in robots.of("dingtalk")[0]["body"]["markdown"]["text"]
        refused = runner.invoke(app, ["channel", "add", "--unit", problem["unit"], "--url", "wecom://abc"])
        assert refused.exit_code == 1 and "rwecombot://" in refused.stderr

        result = runner.invoke(app, ["remind", "--as-of", "2016-08-23 08:30", "--format", "json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert summary["delivered"] >= 2 and summary["failed"] == []
        assert len(robots.of("dingtalk")) == 2
        shown = json.loads(runner.invoke(app, ["deliveries", "--format", "json"]).stdout)
        assert {d["status"] for d in shown} == {"sent"} and all(TOKEN not in (d["channel"] or "") for d in shown)


def test_two_runs_at_once_send_each_message_once(problem):
    import threading

    from rectify.flows.reminders import deliver_due

    with Robots() as robots:
        add_channel(problem["unit"], f"rwecombot://key-1?api={robots.api}", 1)
        add_channel("色达县教育局", f"rwecombot://key-2?api={robots.api}", 1)
        with unit_of_work(ASSIGNED_AT) as ctx:
            act.record(ctx, actor="督导员14", county=COUNTY, item="减贫实施方案", description="方案未细化",
                       severity="一般", unit="色达县教育局")
        now = at(date(2016, 8, 23))
        queue_due(now, RunSummary(day="2016-08-23"))
        robots.delay = 0.5  # the first run is still talking to the robot when the second starts
        start = threading.Barrier(2)
        summaries = [RunSummary(day="2016-08-23"), RunSummary(day="2016-08-23")]

        def run(summary: RunSummary) -> None:
            start.wait()
            deliver_due(now, summary)

        threads = [threading.Thread(target=run, args=(s,)) for s in summaries]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        keys = sorted(r["query"]["key"] for r in robots.of("wecombot"))
        assert keys == ["key-1", "key-2"]
        assert sum(s.recipients for s in summaries) == 2 and not any(s.failed for s in summaries)
