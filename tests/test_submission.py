"""What a submission carries (原因分析, 举一反三, 建章立制, as the policy asks) and the unit head's
sign-off (单位负责人审核): the moves, the refusals, the unit's clock and the figures, the pages."""

from __future__ import annotations

from dataclasses import replace

import pytest
from samples import ANALYSIS
from webworld import DAY0, PASSWORD, PNG, build, login, take_step
from world import at, new_issue, photo, rectifying

from rectify.flows import issue_actions as act
from rectify.flows.context import unit_of_work
from rectify.models.accounts import add_user, set_password, set_unit_head
from rectify.models.enums import MessageKind, Role, Status
from rectify.models.errors import InvalidInput, InvalidTransition, PermissionDenied
from rectify.models.figures import figures_from_events, present_figures, tallied_figures
from rectify.models.lookup import get_unit
from rectify.models.policy import load_policy
from rectify.models.reminders import Thresholds, select_due

HEAD = "单位负责人甲"


def _head(session, unit_name: str, name: str = HEAD):
    head = add_user(session, name, role=Role.UNIT, unit=get_unit(session, unit_name))
    set_unit_head(head, True)
    session.flush()
    return head


def test_the_policy_says_what_a_submission_must_analyse(ctx, world, tmp_path):
    grave = rectifying(ctx, world)  # 严重: the seeds' policy asks for all three
    events = len(grave.events)
    for missing, label in (("cause", "原因分析"), ("spread", "举一反三"), ("rules", "建章立制")):
        given = {k: v for k, v in ANALYSIS.items() if k != missing}
        with pytest.raises(InvalidInput, match=f"严重的「安全住房」类问题申请销号须填写{label}") as refused:
            act.submit(at(ctx, 2), grave.code, actor=world.handler, measures="已加固", evidence=[photo(tmp_path)],
                       **given)
        assert refused.value.field == missing
    with pytest.raises(InvalidInput, match="须填写原因分析"):
        act.submit(at(ctx, 2), grave.code, actor=world.handler, measures="已加固", evidence=[photo(tmp_path)],
                   **{**ANALYSIS, "cause": "  "})
    assert grave.status is Status.RECTIFYING and len(grave.events) == events and grave.cause is None

    normal = new_issue(at(ctx, 0), world, severity="一般")  # only the cause is asked for
    act.assign(ctx, normal.code, actor=world.coordinator, unit=world.unit)
    act.sign(at(ctx, 1), normal.code, actor=world.handler)
    act.submit(at(ctx, 2), normal.code, actor=world.handler, measures="已加固", evidence=[photo(tmp_path)],
               cause="巡查不到位")
    assert normal.status is Status.SUBMITTED
    assert (normal.cause, normal.spread_note, normal.rules_note) == ("巡查不到位", None, None)
    assert normal.events[-1].payload["cause"] == "巡查不到位"

    act.submit(at(ctx, 2), grave.code, actor=world.handler, measures="已加固", evidence=[photo(tmp_path)], **ANALYSIS)
    assert (grave.cause, grave.spread_note, grave.rules_note) == (ANALYSIS["cause"], ANALYSIS["spread"],
                                                                  ANALYSIS["rules"])


def test_the_scopes_are_data_a_severity_an_item_a_category_or_all(ctx, world):
    issue = new_issue(ctx, world, severity="一般")  # 安全住房 (H06), category 三保障
    policy = ctx.policy
    for scopes, expected in (((), []), (("normal",), ["spread"]), (("H06",), ["spread"]), (("三保障",), ["spread"]),
                             (("*",), ["spread"]), (("grave", "V10"), [])):
        changed = replace(policy, analysis_required={"spread": scopes})
        assert changed.asks(issue.check_item, issue.severity) == expected, scopes
    assert policy.head_reviews(issue.check_item, issue.severity) is False  # the seeds: grave only


def test_a_grave_problem_goes_to_the_unit_head_and_the_clock_stops_at_the_approval(ctx, session, world, tmp_path):
    head = _head(session, world.unit)
    issue = rectifying(ctx, world)  # signed Tuesday 23 August; deadline Thursday 25 (严重)
    act.submit(at(ctx, 2), issue.code, actor=world.handler, measures="已加固", evidence=[photo(tmp_path)], **ANALYSIS)
    assert issue.status is Status.REVIEWING and issue.submit_count == 0 and issue.submitted_at is None
    assert issue.submitted_by.name == world.handler and issue.reviewing_at is not None
    # Not the verifiers' yet; only the head answers; the handler cannot submit it again.
    with pytest.raises(InvalidTransition, match="单位审核中"):
        act.verify(at(ctx, 2), issue.code, actor=world.verifier, note="ok")
    with pytest.raises(PermissionDenied, match="不是本单位负责人"):
        act.approve_review(at(ctx, 2), issue.code, actor=world.handler)
    with pytest.raises(PermissionDenied, match="不是本单位负责人"):
        act.head_return(at(ctx, 2), issue.code, actor=world.handler, reason="x")
    with pytest.raises(InvalidTransition, match="已报单位负责人审核"):
        act.submit(at(ctx, 2), issue.code, actor=head.name, measures="再交", evidence=[photo(tmp_path)], **ANALYSIS)
    other_head = _head(session, world.other_handler.removesuffix("经办人"), "他单位负责人")
    with pytest.raises(PermissionDenied, match="责任单位不是"):
        act.approve_review(at(ctx, 2), issue.code, actor=other_head.name)

    with pytest.raises(InvalidInput, match="退回理由"):
        act.head_return(at(ctx, 2), issue.code, actor=head.name, reason=" ")
    act.head_return(at(ctx, 2), issue.code, actor=head.name, reason="照片看不清")
    assert issue.status is Status.RECTIFYING and issue.return_count == 0  # not the verifier's return
    act.submit(at(ctx, 3), issue.code, actor=world.handler, measures="重新拍照", evidence=[photo(tmp_path, "b.png",
               b"again")], **ANALYSIS)
    # Friday 26 August: past the deadline and still the unit's (waiting for its own head): overdue,
    # reminded and on the escalation ladder like any problem whose clock runs.
    session.flush()
    later = at(ctx, 4)
    thresholds = Thresholds.at(later.today, calendar=later.calendar, policy=later.policy)
    reminders, _ = select_due(session, thresholds, calendar=later.calendar)
    assert any(d.issue_id == issue.id and d.kind is MessageKind.OVERDUE for d in reminders)
    for rows in (present_figures(session, by="unit", today=at(ctx, 4).today),
                 tallied_figures(session, by="unit", today=at(ctx, 4).today)):
        row = next(r for r in rows if r.key == world.unit)
        assert (row.overdue, row.submitted, row.assigned) == (1, 0, 1)
    act.approve_review(at(ctx, 4), issue.code, actor=head.name, note="同意报核验")
    assert issue.status is Status.SUBMITTED and issue.submit_count == 1 and issue.submitted_at == at(ctx, 4).now
    act.verify(at(ctx, 5), issue.code, actor=world.verifier, note="核实")
    assert issue.closed_on_time is False  # approved on the 26th, after the deadline of the 25th
    assert [e.action for e in issue.events][3:] == ["send_to_head", "head_return", "send_to_head", "submit", "verify"]
    session.flush()
    now = at(ctx, 5)
    present = {r.key: r for r in present_figures(session, by="unit", today=now.today)}[world.unit]
    recount = {r.key: r for r in figures_from_events(session, by="unit", as_of=now.now, calendar=now.calendar)}[
        world.unit]
    for name in ("closed", "on_time_rate", "return_rate", "overdue", "submitted"):
        assert getattr(present, name) == getattr(recount, name), name
    assert present.on_time_rate == 0 and present.return_rate == 0


def test_without_an_active_head_or_from_the_head_a_submission_goes_straight_on(ctx, session, world, tmp_path):
    issue = rectifying(ctx, world)
    act.submit(at(ctx, 2), issue.code, actor=world.handler, measures="已加固", evidence=[photo(tmp_path)], **ANALYSIS)
    assert issue.status is Status.SUBMITTED and issue.events[-1].payload["head_review"] == "no_head"

    head = _head(session, world.unit)
    own = rectifying(ctx, world)
    act.submit(at(ctx, 2), own.code, actor=head.name, measures="已加固", evidence=[photo(tmp_path, "c.png", b"c")],
               **ANALYSIS)
    assert own.status is Status.SUBMITTED and own.events[-1].payload["head_review"] == "by_head"

    head.active = False
    session.flush()
    third = rectifying(ctx, world)
    act.submit(at(ctx, 2), third.code, actor=world.handler, measures="已加固",
               evidence=[photo(tmp_path, "d.png", b"d")], **ANALYSIS)
    assert third.status is Status.SUBMITTED


def test_only_a_units_user_can_be_its_head(session, world):
    coordinator = add_user(session, "协调员乙", role=Role.COORDINATOR)
    with pytest.raises(InvalidInput, match="不是责任单位的用户") as refused:
        set_unit_head(coordinator, True)
    assert refused.value.field == "unit_head" and coordinator.unit_head is False
    assert load_policy(session).head_review == ("grave",)


# --- the pages --------------------------------------------------------------------------------


def test_the_handler_sends_to_the_head_who_approves_from_the_workbench(fresh_db):
    from rectify.web.app import create_app

    web = build(fresh_db)
    code = web.codes["household"]  # H06, 严重
    with unit_of_work(DAY0, url=web.url) as ctx:
        act.sign(ctx, code, actor=web.handler)
        head = _head(ctx.session, web.unit)
        set_password(head, PASSWORD)
    app = create_app(url=web.url, as_of="2016-08-23 10:00")
    unit = login(app, web.handler)
    page = unit.get(f"/issues/{code}").text
    form = page[page.index('id="form-submit"'):]
    form = form[:form.index("</form>")]
    assert 'name="cause" required' in form and 'name="spread" required' in form and 'name="rules" required' in form
    assert "报单位负责人审核" in form
    missing = take_step(unit, code, "submit", files=[("files", ("现场.png", PNG, "image/png"))], measures="已加固",
                        cause="排查不到位")
    assert "须填写举一反三(请在「举一反三」处填写)" in missing
    take_step(unit, code, "submit", files=[("files", ("现场.png", PNG, "image/png"))], measures="已加固", **ANALYSIS)
    page = unit.get(f"/issues/{code}").text
    assert "单位审核中" in page and 'id="form-approve_review"' not in page and ANALYSIS["spread"] in page
    assert 'id="reviews"' not in unit.get("/workbench").text  # the handler is not the head

    boss = login(app, HEAD)
    desk = boss.get("/workbench").text
    assert code in desk[desk.index('id="reviews"'):] and 'data-figure="reviews">1<' in desk
    page = boss.get(f"/issues/{code}").text
    assert 'id="form-approve_review"' in page and 'id="form-head_return"' in page and 'id="form-submit"' not in page
    landed = take_step(boss, code, "approve_review", note="同意")
    assert "已申请销号,当前状态「待核验」" in landed
    with unit_of_work(DAY0, url=web.url) as ctx:
        from rectify.models.lookup import get_issue

        issue = get_issue(ctx.session, code)
        assert issue.status is Status.SUBMITTED and issue.cause == ANALYSIS["cause"]


def test_report_lists_what_the_units_wrote(fresh_db, tmp_path):
    import json

    from typer.testing import CliRunner

    from rectify.flows.cli import app

    web = build(fresh_db)
    code = web.codes["assigned"]  # V10, 较重: the cause only
    with unit_of_work(DAY0, url=web.url) as ctx:
        act.sign(ctx, code, actor=web.handler)
        shot = tmp_path / "作战图.png"
        shot.write_bytes(PNG)
        act.submit(ctx, code, actor=web.handler, measures="作战图已上墙", cause="更新不及时 | 无人负责",
                   evidence=[shot])
    listed = CliRunner().invoke(app, ["report", "--analyses", "--county", web.county, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [{"code": code, "place": json.loads(listed.stdout)[0]["place"],
                                          "item": "作战图", "unit": web.unit, "status": "待核验",
                                          "cause": "更新不及时 | 无人负责", "spread": None, "rules": None}]
    refused = CliRunner().invoke(app, ["report", "--analyses", "--format", "xlsx"])
    assert refused.exit_code == 1 and "只支持 table、json、csv" in refused.stderr
