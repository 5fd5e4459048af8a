"""群众满意度回访 (the household's callback): the draw, the workbook for the phone teams, the web
form, 不满意 reopening the problem as a rebound, and 满意率 in the figures, exactly: test_figures'
campaign extended with two called-back households and a staged problem with an assisting unit."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from samples import ANALYSIS, image
from sqlalchemy import select
from test_figures import COORDINATOR, COUNTY, VERIFIER, at, campaign, report, runner  # noqa: F401 (a fixture)

from rectify.flows import issue_actions as act
from rectify.flows.cli import app
from rectify.flows.context import unit_of_work
from rectify.flows.recheck import run_plan, run_recheck_import
from rectify.models.errors import InvalidInput
from rectify.models.lookup import get_issue
from rectify.models.org import Unit
from rectify.models.places import County, Township, Village
from rectify.models.rechecks import CALLBACK


@pytest.fixture()
def called(campaign, tmp_path, prefect_harness):  # noqa: F811
    """The campaign (test_figures) and two household problems closed on 25 August; a callback
    of every closed household-level problem drawn on 1 September: P10 and P11."""
    unit = campaign
    photo = tmp_path / "户.png"
    photo.write_bytes(image(b"household"))
    with unit_of_work(at("2016-08-22")) as ctx:
        village = ctx.session.scalars(select(Village).join(Township).join(County)
                                      .where(County.name == COUNTY).order_by(Village.id)).first()
        homes = [h.registry_no for h in village.households[:2]]
        name = village.name
    codes = []
    for n, home in enumerate(homes, start=10):
        with unit_of_work(at("2016-08-22")) as ctx:
            code = act.record(ctx, actor="督导员13", county=COUNTY, village=name, household=home, item="H07",
                              description=f"P{n}", severity="一般", unit=unit).code
        with unit_of_work(at("2016-08-23")) as ctx:
            act.sign(ctx, code, actor=f"{unit}经办人")
        with unit_of_work(at("2016-08-24")) as ctx:
            act.submit(ctx, code, actor=f"{unit}经办人", measures="已整改", evidence=[photo], **ANALYSIS)
        with unit_of_work(at("2016-08-25")) as ctx:
            act.verify(ctx, code, actor=VERIFIER, note="销号")
        codes.append(code)
    # P12: a staged problem (阶段性整改) with an assisting unit (协办): its first stage reported on
    # time and verified; its deadline is its last stage's, 30 September.
    with unit_of_work(at("2016-08-22")) as ctx:
        helper = next(u for u in ctx.session.scalars(select(Unit.name).join(County, County.id == Unit.county_id)
                                                     .where(County.name == COUNTY).order_by(Unit.id)) if u != unit)
    with unit_of_work(at("2016-08-22")) as ctx:
        staged = act.record(ctx, actor="督导员13", county=COUNTY, village=name, item="作战图", description="P12",
                            severity="一般", unit=unit).code
        act.set_assists(ctx, staged, actor=COORDINATOR, units=[helper])
    with unit_of_work(at("2016-08-23")) as ctx:
        act.sign(ctx, staged, actor=f"{unit}经办人")
        act.set_stages(ctx, staged, actor=COORDINATOR,
                       stages=[(date(2016, 8, 31), "制作"), (date(2016, 9, 30), "上墙")])
    with unit_of_work(at("2016-08-30")) as ctx:
        act.submit_stage(ctx, staged, actor=f"{unit}经办人", note="已制作", evidence=[photo])
    with unit_of_work(at("2016-08-31")) as ctx:
        act.decide_stage(ctx, staged, actor=VERIFIER, approve=True, note="已制作")
    out = tmp_path / "回访.xlsx"
    plan = run_plan("九月回访", 1.0, 1, out, at("2016-09-01"), VERIFIER, kind=CALLBACK)
    assert plan.sampled == 2  # the village-level P1 and P3 are not called back; P7 was reopened
    return unit, codes, out, helper


def _fill(path, answers: dict[str, tuple[str, str]], to):
    book = load_workbook(path)
    sheet = book["满意度回访"]
    assert [c.value for c in sheet[1]][-2:] == ["回访结果", "回访说明"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in answers:
            row[7].value, row[8].value = answers[row[0].value]
    book.save(to)
    return to


def test_callbacks_reopen_the_unsatisfied_and_give_the_satisfaction_rate_exactly(called, tmp_path):
    unit, (p10, p11), out, helper = called
    bad = _fill(out, {p10: ("满意", ""), p11: ("不满意", "")}, tmp_path / "缺说明.xlsx")
    with pytest.raises(InvalidInput,
                       match=r"工作表「满意度回访」 第 \d 行 I列「回访说明」:回访结果为「不满意」时须写明回访说明"):
        run_recheck_import(bad, at("2016-09-02"), VERIFIER)
    wrong = _fill(out, {p10: ("很满意", "")}, tmp_path / "错值.xlsx")
    with pytest.raises(InvalidInput, match="应为 满意 或 基本满意 或 不满意"):
        run_recheck_import(wrong, at("2016-09-02"), VERIFIER)
    with unit_of_work(at("2016-09-02")) as ctx:  # nothing written by the refused imports
        assert get_issue(ctx.session, p11).status.value == "closed"

    filled = _fill(out, {p10: ("满意", ""), p11: ("不满意", "墙面只刷了一半,雨天仍漏水")}, tmp_path / "已填.xlsx")
    done = run_recheck_import(filled, at("2016-09-02"), VERIFIER)
    assert (done.kind, done.checked, done.reopened) == (CALLBACK, 2, [p11])
    again = run_recheck_import(filled, at("2016-09-02", 11), VERIFIER)
    assert (again.checked, again.unchanged, again.reopened) == (0, 2, [])
    with unit_of_work(at("2016-09-02", 12)) as ctx:
        reopened = get_issue(ctx.session, p11)
        assert reopened.status.value == "rectifying" and reopened.reopen_count == 1
        assert "群众不满意:墙面只刷了一半" in reopened.events[-1].note

    [row] = report("--by", "county", "--county", COUNTY, "--as-of", "2016-09-05 10:00")
    row.pop("uncertainty")
    # test_figures' campaign, with P10 closed (on time, 3 working days), P11 closed then reopened
    # by its callback, and P12 staged (one stage of two verified, on time): 4 of 11 finished; 2 of
    # 3 closed on time; P11 a second rebound; P12 signed on time, not overdue.
    assert row == {
        "key": COUNTY, "total": 11, "resolved_on_site": 1, "assigned": 9, "submitted": 0, "closed": 3,
        "closure_rate": 4 / 11, "closure_rate_excl_on_site": 3 / 10, "rectified_rate": 4 / 11, "on_time_rate": 2 / 3,
        "overdue": 1, "sign_on_time_rate": 7 / 8, "extension_rate": 1 / 9, "return_rate": 1 / 6,
        "rebound_rate": 2 / 6, "median_days_to_close": 3.0, "verification_late": 0, "rank": 1,
        "paused": 1, "paused_days": 3, "callbacks": 2, "satisfaction_rate": 0.5,
        "stages_verified": 1, "stage_on_time_rate": 1.0,
    }
    by_unit = {r["key"]: r for r in report("--by", "unit", "--as-of", "2016-09-05 10:00")}
    assert (by_unit[unit]["total"], by_unit[unit]["callbacks"], by_unit[unit]["satisfaction_rate"]) == (9, 2, 0.5)
    assert helper not in by_unit  # the figures by unit count the lead (主办) only
    [before] = report("--by", "county", "--county", COUNTY, "--as-of", "2016-09-01 18:00")
    assert (before["callbacks"], before["satisfaction_rate"]) == (0, None)
    rates = runner.invoke(app, ["recheck", "rates", "--callback", "--format", "json"])
    assert rates.exit_code == 0, rates.output
    assert json.loads(rates.stdout) == [{"county": COUNTY, "unit": unit, "checked": 2, "unsatisfied": 1,
                                         "satisfaction_rate": 0.5}]
    # Called back once since it was closed: P10 is not drawn again; P11 is open again.
    with pytest.raises(InvalidInput, match=re.escape("没有可满意度回访的问题(已销号的户级问题)")):
        run_plan("十月回访", 1.0, 2, tmp_path / "十月.xlsx", at("2016-10-10"), VERIFIER, kind=CALLBACK)


def test_one_callback_is_answered_on_the_problems_page(called):
    from fastapi.testclient import TestClient

    from rectify.flows.demo import DEMO_PASSWORD
    from rectify.models.accounts import set_password
    from rectify.models.lookup import get_user
    from rectify.web.app import create_app

    unit, (p10, p11), _, _ = called
    with unit_of_work(at("2016-09-02")) as ctx:
        for name in (VERIFIER, f"{unit}经办人"):
            set_password(get_user(ctx.session, name), DEMO_PASSWORD)
    app = create_app(as_of="2016-09-02 10:00")

    def browser(name):
        client = TestClient(app)
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"name": name, "password": DEMO_PASSWORD, "csrf": token})
        return client

    handler = browser(f"{unit}经办人")
    assert 'id="form-callback"' not in handler.get(f"/issues/{p11}").text
    verifier = browser(VERIFIER)
    page = verifier.get(f"/issues/{p11}").text
    assert 'id="form-callback"' in page and "九月回访" in page
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    refused = verifier.post(f"/issues/{p11}/callback", data={"csrf": token, "result": "不满意", "note": " "})
    assert "须写明回访说明" in refused.text
    done = verifier.post(f"/issues/{p11}/callback", data={"csrf": token, "result": "不满意", "note": "仍漏水"})
    assert "已记录回访结果「不满意」,问题已反弹重开" in done.text and 'id="form-callback"' not in done.text
    verifier.post(f"/issues/{p10}/callback", data={"csrf": token, "result": "基本满意", "note": ""})
    again = verifier.post(f"/issues/{p10}/callback", data={"csrf": token, "result": "满意", "note": ""})
    assert "没有抽入满意度回访,或已回访" in again.text
    board = verifier.get("/recheck").text
    assert 'id="satisfaction"' in board and "50.0%" in board[board.index('id="satisfaction"'):]
    with unit_of_work(at("2016-09-02", 12)) as ctx:
        assert get_issue(ctx.session, p11).status.value == "rectifying"
        assert get_issue(ctx.session, p10).status.value == "closed"
