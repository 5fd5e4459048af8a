"""阶段性整改 (staged rectification): the coordinator's stages, each reported with evidence and
verified, the problem submitted only for its last, on time judged per stage and over the whole."""

from __future__ import annotations

import re
from datetime import date

import pytest
from samples import ANALYSIS
from webworld import DAY0, PNG, build, login, take_step
from world import at, photo, rectifying

from rectify.flows import issue_actions as act
from rectify.flows.context import unit_of_work
from rectify.flows.views import issue_to_dict
from rectify.models.enums import Status
from rectify.models.errors import InvalidInput, InvalidTransition, PermissionDenied
from rectify.models.figures import figures

HOUSE = [(date(2016, 8, 26), "拆除旧房"), (date(2016, 9, 9), "主体完工"), (date(2016, 9, 30), "竣工入住")]


def test_stages_are_reported_and_verified_one_by_one_and_the_last_is_the_submission(ctx, session, world, tmp_path):
    issue = rectifying(ctx, world)  # signed Tuesday 23 August; deadline Thursday 25 (严重)
    with pytest.raises(PermissionDenied, match="无权"):
        act.set_stages(at(ctx, 1), issue.code, actor=world.handler, stages=HOUSE)
    for wrong, said in (([HOUSE[0]], "至少分两个阶段"), ([HOUSE[1], HOUSE[0]], "晚于上一阶段"),
                        ([(date(2016, 8, 1), "备料"), HOUSE[2]], "不早于今天"), ([(date(2016, 9, 1), " "), HOUSE[2]],
                                                                                 "第 1 阶段的名称")):
        with pytest.raises(InvalidInput, match=said):
            act.set_stages(at(ctx, 1), issue.code, actor=world.coordinator, stages=wrong)
    assert issue.stages == [] and issue.deadline == date(2016, 8, 25)
    act.set_stages(at(ctx, 1), issue.code, actor=world.coordinator, stages=HOUSE)
    assert [s.title for s in issue.stages] == ["拆除旧房", "主体完工", "竣工入住"]
    assert issue.deadline == issue.original_deadline == date(2016, 9, 30)

    with pytest.raises(InvalidTransition, match="第 1 阶段「拆除旧房」尚未核验通过"):
        act.submit(at(ctx, 2), issue.code, actor=world.handler, measures="x", evidence=[photo(tmp_path)], **ANALYSIS)
    with pytest.raises(InvalidInput, match="须附至少一份佐证材料"):
        act.submit_stage(at(ctx, 3), issue.code, actor=world.handler, note="旧房已拆除", evidence=[])
    act.submit_stage(at(ctx, 3), issue.code, actor=world.handler, note="旧房已拆除", evidence=[photo(tmp_path)])
    assert issue.stages[0].state == "submitted" and issue.status is Status.RECTIFYING
    with pytest.raises(InvalidTransition, match="已报送,待核验"):
        act.submit_stage(at(ctx, 3), issue.code, actor=world.handler, note="再报", evidence=[photo(tmp_path)])
    with pytest.raises(PermissionDenied, match="无权"):
        act.decide_stage(at(ctx, 4), issue.code, actor=world.handler, approve=True, note="ok")
    act.decide_stage(at(ctx, 4), issue.code, actor=world.verifier, approve=True, note="已拆除")
    assert issue.stages[0].state == "verified" and issue.stages[0].on_time is True
    assert issue.stage_progress == "阶段性完成 1/3"
    with pytest.raises(InvalidTransition, match="不能重新设置阶段"):
        act.set_stages(at(ctx, 4), issue.code, actor=world.coordinator, stages=HOUSE)

    # The second stage comes three days late and is returned once; its deadline stays its own.
    act.submit_stage(at(ctx, 21), issue.code, actor=world.handler, note="主体完工", evidence=[photo(tmp_path, "b.png",
                                                                                                   b"b")])
    with pytest.raises(InvalidInput, match="退回理由"):
        act.decide_stage(at(ctx, 21), issue.code, actor=world.verifier, approve=False, note=" ")
    act.decide_stage(at(ctx, 21), issue.code, actor=world.verifier, approve=False, note="屋顶未封")
    assert issue.stages[1].state == "open" and issue.stages[1].submitted_at is None
    shown = issue_to_dict(issue, today=date(2016, 9, 12), calendar=ctx.calendar, policy=ctx.policy)["stages"]
    assert [(st["state"], st["late"]) for st in shown] == [("verified", False), ("open", True), ("open", False)]
    act.submit_stage(at(ctx, 22), issue.code, actor=world.handler, note="屋顶已封", evidence=[photo(tmp_path, "c.png",
                                                                                                  b"c")])
    act.decide_stage(at(ctx, 22), issue.code, actor=world.verifier, approve=True, note="主体完工")
    assert issue.stages[1].on_time is False and issue.stage_progress == "阶段性完成 2/3"
    with pytest.raises(InvalidTransition, match=re.escape("没有待报送的阶段(最后一个阶段完成后请申请销号)")):
        act.submit_stage(at(ctx, 23), issue.code, actor=world.handler, note="x", evidence=[photo(tmp_path)])

    act.submit(at(ctx, 29), issue.code, actor=world.handler, measures="竣工入住", evidence=[photo(tmp_path, "d.png",
                                                                                                b"d")], **ANALYSIS)
    act.verify(at(ctx, 30), issue.code, actor=world.verifier, note="已入住")
    assert issue.status is Status.CLOSED and issue.closed_on_time is True
    assert [s.state for s in issue.stages] == ["verified"] * 3 and issue.stages[2].on_time is True
    assert issue.stage_progress is None
    assert [e.action for e in issue.events if "stage" in e.action] == [
        "set_stages", "submit_stage", "verify_stage", "submit_stage", "return_stage", "submit_stage", "verify_stage"]
    session.flush()
    now = at(ctx, 30)
    [row] = [r for r in figures(session, by="unit", as_of=now.now, calendar=now.calendar, policy=now.policy)
             if r.key == world.unit]
    assert (row.stages_verified, row.stage_on_time_rate, row.on_time_rate) == (3, 2 / 3, 1.0)
    [before] = [r for r in figures(session, by="unit", as_of=at(ctx, 10).now, calendar=now.calendar,
                                   policy=now.policy) if r.key == world.unit]
    assert (before.stages_verified, before.stage_on_time_rate) == (1, 1.0)


def test_a_sent_back_problem_drops_a_plan_not_started(ctx, world):
    issue = rectifying(ctx, world)
    act.set_stages(at(ctx, 1), issue.code, actor=world.coordinator, stages=HOUSE)
    act.send_back(at(ctx, 2), issue.code, actor=world.handler, reason="不属本单位")
    assert issue.stages == [] and issue.status is Status.TRIAGE


def test_the_coordinator_plans_and_the_unit_reports_on_the_page(fresh_db):
    from rectify.web.app import create_app

    web = build(fresh_db)
    code = web.codes["assigned"]
    with unit_of_work(DAY0, url=web.url) as ctx:
        act.sign(ctx, code, actor=web.handler)
    app = create_app(url=web.url, as_of="2016-08-23 10:00")
    coordinator = login(app, web.coordinator)
    wrong = take_step(coordinator, code, "stages", stages="2016-09-30 只有一段")
    assert "至少分两个阶段;不分阶段请全部留空(请在「阶段」处修改)" in wrong
    take_step(coordinator, code, "stages", stages="2016-09-02 制作\n\n2016-09-09 上墙公示")
    unit = login(app, web.handler)
    page = unit.get(f"/issues/{code}").text
    assert 'id="form-submit_stage"' in page and 'id="form-submit"' not in page and "分 2 个阶段" in page
    take_step(unit, code, "submit_stage", files=[("files", ("制作.png", PNG, "image/png"))], note="作战图已制作")
    verifier = login(app, web.verifier)
    assert 'id="form-verify_stage"' in verifier.get(f"/issues/{code}").text
    take_step(verifier, code, "verify_stage", note="已制作")
    page = unit.get(f"/issues/{code}").text
    assert "阶段性完成 1/2" in page and 'id="form-submit"' in page and 'id="form-submit_stage"' not in page
