"""Every edge of the problem lifecycle, and every refusal: state, role, unit, independence, version."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from samples import ANALYSIS
from sqlalchemy import select
from world import T0, assigned, at, new_issue, photo, rectifying, submitted

from rectify.flows import issue_actions as act
from rectify.models.enums import Role, Status, Supervision
from rectify.models.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from rectify.models.lifecycle import MOVES, Action
from rectify.models.org import Unit, User

# --- creation -----------------------------------------------------------------------------


def test_record_goes_to_triage_with_an_event_and_a_code(ctx, world):
    issue = new_issue(ctx, world)
    assert issue.status is Status.TRIAGE
    assert issue.code.startswith("GZ-2016-")
    assert issue.triage_at == T0 and issue.version == 1
    [event] = issue.events
    assert (event.action, event.from_status, event.to_status, event.seq) == ("record", None, Status.TRIAGE, 1)


def test_codes_are_sequential_per_year(ctx, world):
    first, second = new_issue(ctx, world), new_issue(ctx, world)
    assert int(second.code[-5:]) == int(first.code[-5:]) + 1


def test_record_with_unit_is_assigned_with_the_policy_deadline(ctx, world):
    issue = new_issue(ctx, world, unit=world.unit)
    assert issue.status is Status.ASSIGNED
    # 严重 = 3 working days from Mon 22 Aug 2016.
    assert issue.original_deadline == issue.deadline == date(2016, 8, 25)


def test_resolved_on_site_needs_a_team_leader_cosign(ctx, world):
    with pytest.raises(InvalidInput, match="组长会签"):
        new_issue(ctx, world, on_site="当场解决")
    with pytest.raises(PermissionDenied, match="不是督导组组长"):
        new_issue(ctx, world, on_site="当场解决", cosign=world.coordinator)
    issue = new_issue(ctx, world, on_site="当场更换水管接头", cosign=world.team_leader)
    assert issue.status is Status.RESOLVED_ON_SITE
    assert issue.cosigned_by.name == world.team_leader
    assert issue.events[0].payload["cosigned_by"] == world.team_leader


def test_only_inspectors_and_coordinators_record(ctx, world):
    with pytest.raises(PermissionDenied, match="无权登记"):
        new_issue(ctx, world, actor=world.handler)


def test_level_of_item_needs_the_place(ctx, world):
    with pytest.raises(InvalidInput, match="户级项目"):
        new_issue(ctx, world, household=None)
    with pytest.raises(InvalidInput, match="村级项目"):
        new_issue(ctx, world, item="卫生室", village=None, household=None, township=None)
    county_level = new_issue(ctx, world, item="减贫实施方案", village=None, household=None, township=None)
    assert county_level.village is None


def test_unknown_names_suggest_close_ones(ctx, world):
    with pytest.raises(NotFound, match="理塘县"):
        new_issue(ctx, world, county="理塘")
    with pytest.raises(NotFound, match="安全住房"):
        new_issue(ctx, world, item="安全住")


# --- each edge ----------------------------------------------------------------------------


def test_full_path_to_closure(ctx, world, tmp_path):
    issue = submitted(ctx, world, tmp_path)
    assert issue.status is Status.SUBMITTED and issue.measures == "已加固墙体"
    assert issue.submitted_by.name == world.handler
    act.verify(at(ctx, 3), issue.code, actor=world.verifier, note="现场核实")
    assert issue.status is Status.CLOSED
    assert issue.closed_at == T0 + timedelta(days=3)
    assert [e.action for e in issue.events] == ["record", "assign", "sign", "submit", "verify"]
    assert [e.seq for e in issue.events] == [1, 2, 3, 4, 5]
    assert issue.version == 5
    evidence = issue.events[3].evidence
    assert len(evidence) == 1 and len(evidence[0].sha256) == 64


def test_late_sign_is_recorded(ctx, world):
    issue = assigned(ctx, world)
    act.sign(at(ctx, 4), issue.code, actor=world.handler)  # Fri, 4 working days later
    assert issue.events[-1].payload["late"] is True
    on_time = assigned(at(ctx, 0), world)
    act.sign(at(ctx, 1), on_time.code, actor=world.handler)
    assert on_time.events[-1].payload["late"] is False


def test_unit_sends_back_for_reassignment(ctx, world):
    issue = assigned(ctx, world)
    act.send_back(ctx, issue.code, actor=world.handler, reason="不属本单位职责")
    assert issue.status is Status.TRIAGE and issue.unit is None
    assert issue.events[-1].payload["unit"] == world.unit
    act.assign(ctx, issue.code, actor=world.coordinator, unit=world.unit)
    assert issue.status is Status.ASSIGNED


def test_progress_stays_rectifying_and_bumps_version(ctx, world):
    issue = rectifying(ctx, world)
    version = issue.version
    act.progress(ctx, issue.code, actor=world.handler, note="材料已到位")
    assert issue.status is Status.RECTIFYING and issue.version == version + 1


def test_extension_keeps_the_original_deadline(ctx, world):
    issue = rectifying(ctx, world)
    original = issue.deadline
    act.request_extension(ctx, issue.code, actor=world.handler, until=date(2016, 9, 9), reason="雨季")
    assert issue.extension_requested_until == date(2016, 9, 9)
    with pytest.raises(InvalidTransition, match="待审批"):
        act.request_extension(ctx, issue.code, actor=world.handler, until=date(2016, 9, 10), reason="再延")
    act.decide_extension(ctx, issue.code, actor=world.coordinator, approve=True)
    assert issue.deadline == date(2016, 9, 9) and issue.original_deadline == original
    assert issue.extension_requested_until is None


def test_extension_denied_and_extension_after_deadline_refused(ctx, world):
    issue = rectifying(ctx, world)
    act.request_extension(ctx, issue.code, actor=world.handler, until=date(2016, 9, 9), reason="雨季")
    with pytest.raises(InvalidInput, match="驳回理由"):
        act.decide_extension(ctx, issue.code, actor=world.coordinator, approve=False)
    act.decide_extension(ctx, issue.code, actor=world.coordinator, approve=False, note="理由不充分")
    assert issue.deadline == issue.original_deadline
    with pytest.raises(InvalidInput, match="必须晚于当前时限"):
        act.request_extension(ctx, issue.code, actor=world.handler, until=issue.deadline, reason="x")
    with pytest.raises(InvalidTransition, match="期限届满前"):
        act.request_extension(at(ctx, 10), issue.code, actor=world.handler, until=date(2016, 9, 30), reason="x")
    with pytest.raises(InvalidTransition, match="没有待审批"):
        act.decide_extension(ctx, issue.code, actor=world.coordinator, approve=True)


def test_submit_needs_measures_and_evidence(ctx, world, tmp_path):
    issue = rectifying(ctx, world)
    with pytest.raises(InvalidInput, match="佐证材料"):
        act.submit(ctx, issue.code, actor=world.handler, **ANALYSIS, measures="已整改", evidence=[])
    with pytest.raises(InvalidInput, match="整改措施"):
        act.submit(ctx, issue.code, actor=world.handler, **ANALYSIS, measures="  ", evidence=[photo(tmp_path)])
    bad = tmp_path / "run.exe"
    bad.write_bytes(b"MZ")
    with pytest.raises(InvalidInput, match="类型"):
        act.submit(ctx, issue.code, actor=world.handler, **ANALYSIS, measures="已整改", evidence=[bad])
    assert issue.status is Status.RECTIFYING


def test_verifier_returns_a_submission(ctx, world, tmp_path):
    issue = submitted(ctx, world, tmp_path)
    act.return_submission(ctx, issue.code, actor=world.verifier, reason="照片不清")
    assert issue.status is Status.RECTIFYING


def test_reopen_after_closure_with_new_deadline(ctx, world, tmp_path):
    issue = submitted(ctx, world, tmp_path)
    act.verify(ctx, issue.code, actor=world.verifier, note="ok")
    with pytest.raises(InvalidInput, match="佐证材料"):
        act.reopen(at(ctx, 30), issue.code, actor=world.verifier, reason="回头看发现", evidence=[])
    act.reopen(at(ctx, 30), issue.code, actor=world.coordinator, reason="回头看发现墙体再次开裂",
               evidence=[photo(tmp_path, "回头看.png", b"\x89PNG again")], deadline=date(2016, 10, 31))
    assert issue.status is Status.RECTIFYING and issue.reopen_count == 1
    assert issue.deadline == issue.original_deadline == date(2016, 10, 31)
    assert issue.unit.name == world.unit


def test_on_site_problem_reopens_to_the_village_unit(ctx, world, tmp_path):
    issue = new_issue(ctx, world, on_site="当场解决", cosign=world.team_leader)
    act.reopen(at(ctx, 20), issue.code, actor=world.verifier, reason="反弹", evidence=[photo(tmp_path)])
    assert issue.unit.name == world.unit


def test_void_needs_a_reason_and_is_final(ctx, world):
    issue = new_issue(ctx, world)
    with pytest.raises(InvalidInput, match="撤销理由"):
        act.void(ctx, issue.code, actor=world.coordinator, reason="")
    act.void(ctx, issue.code, actor=world.coordinator, reason="重复登记")
    assert issue.status is Status.VOID and issue.void_at == T0
    with pytest.raises(InvalidTransition, match="不能再执行任何操作"):
        act.assign(ctx, issue.code, actor=world.coordinator, unit=world.unit)


def test_escalation_only_goes_up(ctx, world):
    issue = assigned(ctx, world)
    act.escalate(ctx, issue.code, actor="州领导14", level="红牌")
    assert issue.supervision is Supervision.RED
    with pytest.raises(InvalidTransition, match="只能提级"):
        act.escalate(ctx, issue.code, actor=world.coordinator, level="黄牌")


# --- refusals -----------------------------------------------------------------------------


def test_illegal_transition_names_issue_state_action_and_allowed(ctx, world):
    issue = new_issue(ctx, world)
    with pytest.raises(InvalidTransition) as err:
        act.sign(ctx, issue.code, actor=world.handler)
    message = str(err.value)
    assert issue.code in message and "待交办" in message and "签收" in message
    assert "交办" in message and "撤销" in message  # what is allowed from triage


def test_wrong_role_is_refused(ctx, world, tmp_path):
    issue = new_issue(ctx, world)
    with pytest.raises(PermissionDenied, match="督查办协调员"):
        act.assign(ctx, issue.code, actor=world.inspector, unit=world.unit)
    sub = submitted(ctx, world, tmp_path)
    with pytest.raises(PermissionDenied, match="核验人"):
        act.verify(ctx, sub.code, actor=world.coordinator, note="ok")


def test_a_unit_acts_only_on_its_own_problems(ctx, world):
    issue = assigned(ctx, world)
    with pytest.raises(PermissionDenied, match="责任单位不是"):
        act.sign(ctx, issue.code, actor=world.other_handler)
    assert issue.status is Status.ASSIGNED


def test_a_county_coordinator_acts_only_in_its_county(ctx, world):
    issue = new_issue(ctx, world)
    with pytest.raises(PermissionDenied, match="只负责 康定市"):
        act.assign(ctx, issue.code, actor="康定市督查办", unit=world.unit)
    act.assign(ctx, issue.code, actor="州督查办", unit=world.unit)  # prefecture-wide
    assert issue.status is Status.ASSIGNED


def test_verifier_of_the_responsible_unit_is_refused(ctx, world, tmp_path):
    issue = submitted(ctx, world, tmp_path)
    unit = ctx.session.scalars(select(Unit).where(Unit.name == world.unit)).one()
    ctx.session.add(User(name="本单位核验人", role=Role.VERIFIER, unit=unit, active=True))
    ctx.session.flush()
    with pytest.raises(PermissionDenied, match="本单位"):
        act.verify(ctx, issue.code, actor="本单位核验人", note="ok")
    with pytest.raises(PermissionDenied, match="本单位"):
        act.return_submission(ctx, issue.code, actor="本单位核验人", reason="x")


def test_verifier_who_submitted_is_refused(ctx, world, tmp_path):
    issue = submitted(ctx, world, tmp_path)
    submitter = issue.submitted_by
    # The same person, later moved to the verification office.
    submitter.role, submitter.unit = Role.VERIFIER, None
    ctx.session.flush()
    with pytest.raises(PermissionDenied, match="自己提交"):
        act.verify(ctx, issue.code, actor=submitter.name, note="ok")


def test_stale_expected_version_is_a_conflict_and_changes_nothing(ctx, world):
    issue = assigned(ctx, world)
    seen = issue.version
    act.sign(ctx, issue.code, actor=world.handler, expected_version=seen)
    events = len(issue.events)
    with pytest.raises(Conflict, match="已被他人修改"):
        act.progress(ctx, issue.code, actor=world.handler, note="x", expected_version=seen)
    assert len(issue.events) == events


def test_every_move_in_the_table_is_exercised():
    """A guard against adding a move without a test of it above (the pauses' in test_pause.py,
    the assisting units' in test_assists.py, the unit head's in test_submission.py, the stages' in
    test_stages.py)."""
    exercised = {"assign", "sign", "send_back", "progress", "request_extension", "approve_extension",
                 "deny_extension", "submit", "verify", "return", "reopen", "void", "escalate",
                 "request_pause", "approve_pause", "deny_pause", "resume", "set_assists",
                 "send_to_head", "head_return", "set_stages", "submit_stage", "verify_stage", "return_stage"}
    assert {a.value for a in MOVES} == exercised
    assert Action.RECORD not in MOVES


def test_a_countys_problem_goes_only_to_its_own_or_a_prefecture_unit(ctx):
    """The rule is the model's: every edge (CLI, pages, API, import) meets it through the moves."""
    from rectify.models.lookup import get_issue

    code = act.record(ctx, actor="督导员13", county="理塘县", item="C01", description="跨县交办", severity="一般").code
    with pytest.raises(InvalidInput, match="不能承办理塘县的问题") as refused:
        act.assign(ctx, code, actor="理塘县督查办", unit="康定市")
    assert refused.value.field == "unit"
    with pytest.raises(InvalidInput, match="不能承办理塘县的问题"):
        act.record(ctx, actor="督导员13", county="理塘县", item="C01", description="跨县登记", severity="一般",
                   unit="康定市")
    act.assign(ctx, code, actor="理塘县督查办", unit="甘孜州财政局")  # a prefecture unit may
    assert get_issue(ctx.session, code).unit.name == "甘孜州财政局"
