"""举一反三 for one problem: the other sampled places where its check item failed too, or has not
been checked yet, on the CLI and the problem's page."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import delete, select
from typer.testing import CliRunner

from rectify.flows import issue_actions as act
from rectify.flows.cli import app
from rectify.flows.context import unit_of_work
from rectify.flows.demo_findings import fill_plan
from rectify.flows.intake.importer import import_findings
from rectify.flows.intake.plan import make_plan
from rectify.models.enums import Level, Result
from rectify.models.inspections import Finding, InspectionSample
from rectify.models.issues import Issue
from rectify.models.places import Household, Village
from rectify.models.spread import same_item_elsewhere

COUNTY = "色达县"
LEADER = "督导组长14"


def _imported(ctx, tmp_path):
    plan = make_plan(ctx, inspection="举一反三", county=COUNTY, villages=3, households=4, seed=3,
                     out=tmp_path / "plan.xlsx", leader=LEADER)
    fill_plan(tmp_path / "plan.xlsx", tmp_path / "filled.xlsx", seed=11, leader=LEADER, checked_on=date(2016, 8, 20),
              inspector="督导员14", fail_share=0.3)
    report = import_findings(ctx, path=tmp_path / "filled.xlsx", inspection=plan.inspection, importer=None)
    assert report.errors == [] and report.created
    return plan.inspection


def test_the_sampled_places_where_the_item_failed_too_or_is_not_yet_checked(ctx, tmp_path):
    inspection = _imported(ctx, tmp_path)
    s = ctx.session
    # The household item that failed most often, and one of its problems.
    failed = s.execute(select(Finding.check_item_id, Finding.household_id, Finding.issue_id).where(
        Finding.inspection_id == inspection.id, Finding.result == Result.FAIL,
        Finding.household_id.is_not(None))).all()
    item = max({f.check_item_id for f in failed}, key=lambda i: sum(f.check_item_id == i for f in failed))
    mine = next(f for f in failed if f.check_item_id == item)
    problem = s.get(Issue, mine.issue_id)
    assert problem.check_item.level is Level.HOUSEHOLD
    # Two sampled households whose row of this item has not come in yet.
    passed = s.scalars(select(Finding).where(Finding.inspection_id == inspection.id, Finding.check_item_id == item,
                                             Finding.result != Result.FAIL).order_by(Finding.id)).all()[:2]
    missing = {(f.village_id, f.household_id) for f in passed}
    s.execute(delete(Finding).where(Finding.id.in_([f.id for f in passed])))

    spread = same_item_elsewhere(s, problem)

    def named(keys) -> set[tuple[str, str]]:
        return {(s.get(Village, v).name, s.get(Household, h).registry_no) for v, h in keys}

    others = {(s.get(Household, f.household_id).village_id, f.household_id) for f in failed
              if f.check_item_id == item and f.household_id != mine.household_id}
    sampled = s.scalars(select(InspectionSample).where(InspectionSample.inspection_id == inspection.id,
                                                       InspectionSample.household_id.is_not(None))).all()
    assert spread.sampled == len(sampled) == 12
    assert {(p.village, p.household) for p in spread.found} == named(others) and others
    assert {p.code for p in spread.found} == {s.get(Issue, f.issue_id).code for f in failed
                                              if f.check_item_id == item and f.household_id != mine.household_id}
    assert {(p.village, p.household) for p in spread.unchecked} == named(missing)
    assert (problem.village.name, problem.household.registry_no) not in {(p.village, p.household)
                                                                        for p in spread.found + spread.unchecked}


def test_a_problem_recorded_outside_a_sample_has_no_list(ctx):
    issue = act.record(ctx, actor="督导员14", county=COUNTY, item="C01", description="作战图未上墙", severity="一般")
    assert same_item_elsewhere(ctx.session, issue) is None


def test_the_cli_and_the_page_show_it(fresh_db, tmp_path):
    from webworld import PASSWORD, login

    from rectify.flows.clock import parse_instant
    from rectify.models.accounts import set_password
    from rectify.models.lookup import get_user
    from rectify.web.app import create_app

    with unit_of_work(parse_instant("2016-08-22 10:00")) as ctx:
        _imported(ctx, tmp_path)
        problem = ctx.session.scalars(select(Issue).join(Finding, Finding.issue_id == Issue.id)
                                      .where(Finding.household_id.is_not(None)).order_by(Issue.id)).first()
        code, expected = problem.code, same_item_elsewhere(ctx.session, problem).as_dict()
        set_password(get_user(ctx.session, f"{COUNTY}督查办"), PASSWORD)
    shown = CliRunner().invoke(app, ["issue", "show", code, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["same_item"] == expected
    table = CliRunner().invoke(app, ["issue", "show", code]).stdout
    assert f"本次抽查同类点位 {expected['sampled']} 处" in table
    page = login(create_app(as_of="2016-08-23 10:00"), f"{COUNTY}督查办").get(f"/issues/{code}").text
    panel = page[page.index('id="same-item"'):]
    assert f"另有 <strong>{len(expected['found'])}</strong> 处也发现问题" in panel
    for place in expected["found"]:
        assert place["village"] in panel and place["code"] in panel
