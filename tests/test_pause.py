"""暂缓整改 (paused clocks): the request, the decision, the pause's effect on overdue, reminders
and the escalation ladder, the resume (by itself on its day, or earlier), and the pages."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from samples import ANALYSIS
from webworld import DAY0, build, login, take_step
from world import at, rectifying

from rectify.flows import issue_actions as act
from rectify.flows.context import unit_of_work
from rectify.models.calendar import SHANGHAI
from rectify.models.enums import Status
from rectify.models.errors import InvalidInput, InvalidTransition, PermissionDenied
from rectify.models.lifecycle import paused_workdays, resume_ended_pauses
from rectify.models.lookup import get_user
from rectify.models.org import SYSTEM_USER
from rectify.models.overlays import traffic_light, workdays_left
from rectify.models.reminders import Thresholds, select_due


def test_a_pause_is_asked_with_a_reason_and_a_later_day_and_decided_by_the_coordinator(ctx, world):
    issue = rectifying(ctx, world)  # signed today, Tuesday 23 August; deadline Thursday 25 (严重)
    with pytest.raises(InvalidInput, match="暂缓理由"):
        act.request_pause(ctx, issue.code, actor=world.handler, until=date(2016, 9, 5), reason=" ")
    with pytest.raises(InvalidInput, match="必须晚于今天"):
        act.request_pause(ctx, issue.code, actor=world.handler, until=date(2016, 8, 22), reason="冬季停工")
    with pytest.raises(PermissionDenied, match="无权"):
        act.request_pause(ctx, issue.code, actor=world.coordinator, until=date(2016, 9, 5), reason="冬季停工")
    with pytest.raises(InvalidTransition, match="没有待审批的暂缓申请"):
        act.decide_pause(ctx, issue.code, actor=world.coordinator, approve=True)
    act.request_pause(ctx, issue.code, actor=world.handler, until=date(2016, 9, 5), reason="冬季停工")
    assert issue.pause_requested_until == date(2016, 9, 5) and issue.status is Status.RECTIFYING
    with pytest.raises(InvalidTransition, match="已有待审批的暂缓申请"):
        act.request_pause(ctx, issue.code, actor=world.handler, until=date(2016, 9, 6), reason="再缓")
    with pytest.raises(PermissionDenied, match="无权"):
        act.decide_pause(ctx, issue.code, actor=world.handler, approve=True)
    with pytest.raises(InvalidInput, match="驳回理由"):
        act.decide_pause(ctx, issue.code, actor=world.coordinator, approve=False)
    act.decide_pause(ctx, issue.code, actor=world.coordinator, approve=False, note="可先备料")
    assert issue.pause_requested_until is None and issue.status is Status.RECTIFYING

    act.request_pause(ctx, issue.code, actor=world.handler, until=date(2016, 9, 5), reason="冬季停工")
    act.decide_pause(ctx, issue.code, actor=world.coordinator, approve=True, note="同意")
    assert issue.status is Status.PAUSED and issue.paused_on == date(2016, 8, 23)
    assert issue.paused_until == date(2016, 9, 5) and issue.pause_requested_until is None
    assert [e.action for e in issue.events][-4:] == ["request_pause", "deny_pause", "request_pause", "approve_pause"]
    # While paused the unit cannot submit or pause again; it can resume.
    with pytest.raises(InvalidTransition, match="暂缓整改"):
        act.submit(ctx, issue.code, actor=world.handler, **ANALYSIS, measures="x", evidence=[])


def test_a_pause_is_asked_before_the_deadline_and_approved_before_its_day(ctx, world):
    issue = rectifying(ctx, world)  # deadline Thursday 25 August
    with pytest.raises(InvalidTransition, match="期限届满前"):
        act.request_pause(at(ctx, 4), issue.code, actor=world.handler, until=date(2016, 9, 30), reason="冬季停工")
    act.request_pause(at(ctx, 1), issue.code, actor=world.handler, until=date(2016, 8, 24), reason="短暂停工")
    with pytest.raises(InvalidTransition, match="该日期已到"):
        act.decide_pause(at(ctx, 2), issue.code, actor=world.coordinator, approve=True)


def test_while_paused_nothing_is_overdue_reminded_or_escalated_and_the_pause_ends_by_itself(ctx, world):
    issue = rectifying(ctx, world)  # today Tuesday 23 August; deadline Thursday 25
    act.request_pause(ctx, issue.code, actor=world.handler, until=date(2016, 9, 5), reason="冬季停工")
    act.decide_pause(ctx, issue.code, actor=world.coordinator, approve=True)
    later = at(ctx, 10)  # Thursday 1 September: the deadline passed while paused
    assert workdays_left(issue, today=later.today, calendar=ctx.calendar) is None
    assert traffic_light(issue, today=later.today, calendar=ctx.calendar, policy=ctx.policy) is None
    thresholds = Thresholds.at(later.today, calendar=ctx.calendar, policy=ctx.policy)
    reminders, raise_to = select_due(ctx.session, thresholds, calendar=ctx.calendar)
    assert issue.id not in {d.issue_id for d in reminders}
    assert issue.id not in {d.issue_id for dues in raise_to.values() for d in dues}
    system = get_user(ctx.session, SYSTEM_USER)
    assert resume_ended_pauses(ctx.session, actor=system, now=later.now, calendar=ctx.calendar) == []

    # The reminder run of Tuesday 6 September (a day late) ends it as of its day, Monday 5th:
    # Wednesday 24 August to Friday 2 September were paused, 8 working days; the deadline of
    # Thursday 25 August moves to Tuesday 6 September; the original deadline stays.
    run = at(ctx, 15)
    assert resume_ended_pauses(ctx.session, actor=system, now=run.now, calendar=ctx.calendar) == [issue.code]
    assert issue.status is Status.RECTIFYING and issue.paused_workdays == 8
    assert issue.deadline == date(2016, 9, 6) and issue.original_deadline == date(2016, 8, 25)
    assert issue.paused_on is None and issue.paused_until is None
    event = issue.events[-1]
    assert event.action == "resume" and event.actor.name == SYSTEM_USER
    assert event.payload == {"workdays": 8, "resumed_on": "2016-09-05", "previous_deadline": "2016-08-25",
                             "deadline": "2016-09-06"}
    assert workdays_left(issue, today=run.today, calendar=ctx.calendar) == 0


def test_resuming_early_moves_the_deadline_by_the_working_days_paused(ctx, world):
    issue = rectifying(ctx, world)
    act.request_pause(ctx, issue.code, actor=world.handler, until=date(2016, 9, 30), reason="资金未到位")
    act.decide_pause(ctx, issue.code, actor=world.coordinator, approve=True)
    with pytest.raises(PermissionDenied, match="无权"):
        act.resume(ctx, issue.code, actor=world.verifier)
    # Paused on Tuesday 23 August, resumed on Friday 26th: Wednesday and Thursday were paused.
    act.resume(at(ctx, 4), issue.code, actor=world.handler, note="资金已到位")
    assert issue.paused_workdays == 2 and issue.deadline == date(2016, 8, 29)
    with pytest.raises(InvalidTransition, match="不能「恢复整改」"):
        act.resume(at(ctx, 4), issue.code, actor=world.handler)


def test_working_days_paused_leave_out_the_first_and_the_resuming_day(ctx):
    cal = ctx.calendar
    assert paused_workdays(date(2016, 8, 22), date(2016, 8, 22), calendar=cal) == 0
    assert paused_workdays(date(2016, 8, 22), date(2016, 8, 23), calendar=cal) == 0
    assert paused_workdays(date(2016, 8, 26), date(2016, 8, 29), calendar=cal) == 0  # a weekend between
    assert paused_workdays(date(2016, 8, 26), date(2016, 8, 28), calendar=cal) == 0  # resumed on a Sunday
    # Mid-Autumn Festival 2016: Thursday 15 to Saturday 17 September off, Sunday 18th a working day.
    assert paused_workdays(date(2016, 9, 13), date(2016, 9, 19), calendar=cal) == 2  # the 14th and the 18th


def test_the_reminder_run_resumes_the_pauses_whose_day_came(web):
    from rectify.flows.reminders import run_reminders
    from rectify.models.lookup import get_issue

    with unit_of_work(DAY0, url=web.url) as ctx:  # Monday 22 August
        code = act.record(ctx, actor="督导员13", county=web.county, item="C01", description="危房改造未完工",
                          severity="一般", unit=web.unit, deadline=date(2016, 8, 26)).code
        act.sign(ctx, code, actor=web.handler)
        act.request_pause(ctx, code, actor=web.handler, until=date(2016, 8, 29), reason="建材未到")
        act.decide_pause(ctx, code, actor=web.coordinator, approve=True)
    # Friday 26th: the pause has not reached its day.
    friday = run_reminders(datetime(2016, 8, 26, 8, tzinfo=SHANGHAI), with_tasks=False)
    assert friday.resumed == 0
    summary = run_reminders(datetime(2016, 8, 29, 8, tzinfo=SHANGHAI), with_tasks=False)
    assert summary.resumed == 1
    with unit_of_work(datetime(2016, 8, 29, 9, tzinfo=SHANGHAI), url=web.url) as ctx:
        issue = get_issue(ctx.session, code)
        # Tuesday 23 to Friday 26 paused: the deadline of Friday 26 moves to Thursday 1 September.
        assert issue.status is Status.RECTIFYING and issue.paused_workdays == 4
        assert issue.deadline == date(2016, 9, 1) and issue.original_deadline == date(2016, 8, 26)
    assert run_reminders(datetime(2016, 8, 30, 8, tzinfo=SHANGHAI), with_tasks=False).resumed == 0


# --- the pages --------------------------------------------------------------------------------


@pytest.fixture()
def web(fresh_db):
    return build(fresh_db)


def test_a_unit_asks_on_the_problem_page_and_the_coordinator_approves_from_the_workbench(web):
    from rectify.web.app import create_app

    with unit_of_work(DAY0, url=web.url) as ctx:
        code = act.record(ctx, actor="督导员13", county=web.county, item="C01", description="危房改造未完工",
                          severity="一般", unit=web.unit, deadline=date(2016, 9, 30)).code
        act.sign(ctx, code, actor=web.handler)
    app = create_app(url=web.url, as_of="2016-08-23 10:00")
    unit = login(app, web.handler)
    page = unit.get(f"/issues/{code}").text
    assert 'id="form-pause"' in page and 'id="form-approve_pause"' not in page
    take_step(unit, code, "pause", until="2017-04-10", reason="高原冬季停工")
    page = unit.get(f"/issues/{code}").text
    assert "暂缓申请至 2017-04-10 待审批" in page and 'id="form-pause"' not in page

    coordinator = login(app, web.coordinator)
    desk = coordinator.get("/coordinator").text
    requests = desk[desk.index('id="pause-requests"'):desk.index('id="paused"')]
    # 2016-08-23 to 2017-04-10 is far beyond the policy's 60 working days: flagged.
    assert code in requests and "2017-04-10" in requests and "超过 60 个工作日" in requests
    assert 'id="form-deny_pause"' in coordinator.get(f"/issues/{code}").text
    take_step(coordinator, code, "approve_pause", note="同意")
    desk = coordinator.get("/coordinator").text
    assert code in desk[desk.index('id="paused"'):] and 'data-figure="paused">1<' in desk
    page = unit.get(f"/issues/{code}").text
    assert "暂缓整改" in page and 'id="paused"' in page and 'id="form-resume"' in page
    assert 'id="form-submit"' not in page
    listed = unit.get("/issues", params={"status": "paused"}).text
    assert code in listed

    # Another unit's handler cannot touch it, whatever the form says.
    other = login(app, web.other_handler)
    assert other.get(f"/issues/{code}").status_code == 404
