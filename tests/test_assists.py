"""主办 / 协办: a problem's lead unit and its assisting units. Who may do what, who sees it, who is
reminded, and whom the figures count."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from samples import ANALYSIS
from sqlalchemy import select
from webworld import DAY0, build, login, take_step
from world import rectifying

from rectify.flows import issue_actions as act
from rectify.flows.context import unit_of_work
from rectify.models.calendar import SHANGHAI
from rectify.models.deliveries import Delivery, unit_key
from rectify.models.errors import InvalidInput, PermissionDenied
from rectify.models.figures import present_figures, tallied_figures
from rectify.models.lookup import get_unit
from rectify.models.org import Unit
from rectify.models.places import County


def test_the_coordinator_names_assisting_units_and_they_may_only_report_progress(ctx, session, world):
    issue = rectifying(ctx, world)
    helper = world.other_handler.removesuffix("经办人")
    with pytest.raises(PermissionDenied, match="无权"):
        act.set_assists(ctx, issue.code, actor=world.handler, units=[helper])
    with pytest.raises(InvalidInput, match="主办单位,不能同时为协办单位"):
        act.set_assists(ctx, issue.code, actor=world.coordinator, units=[world.unit])
    elsewhere = session.scalars(select(Unit).join(County).where(County.name == "色达县")).first()
    with pytest.raises(InvalidInput):
        act.set_assists(ctx, issue.code, actor=world.coordinator, units=[elsewhere.name])
    act.set_assists(ctx, issue.code, actor=world.coordinator, units=[helper, helper])
    assert [u.name for u in issue.assisting_units] == [helper]
    event = issue.events[-1]
    assert event.action == "set_assists" and event.payload == {"assist": [helper], "before": []}

    act.progress(ctx, issue.code, actor=world.other_handler, note="协办单位已调拨建材")
    assert issue.events[-1].actor.name == world.other_handler
    for step, kwargs in ((act.submit, {**ANALYSIS, "measures": "已整改", "evidence": []}),
                         (act.request_extension, {"until": date(2016, 9, 30), "reason": "x"}),
                         (act.request_pause, {"until": date(2016, 9, 30), "reason": "x"}),
                         (act.send_back, {"reason": "x"})):
        with pytest.raises(PermissionDenied, match="协办单位,只能报告进展"):
            step(ctx, issue.code, actor=world.other_handler, **kwargs)

    act.set_assists(ctx, issue.code, actor=world.coordinator, units=[])
    assert issue.assisting_units == []
    with pytest.raises(PermissionDenied, match="责任单位不是"):
        act.progress(ctx, issue.code, actor=world.other_handler, note="不再协办")


def test_figures_by_unit_count_the_lead_only(ctx, session, world):
    issue = rectifying(ctx, world)
    helper = world.other_handler.removesuffix("经办人")
    act.set_assists(ctx, issue.code, actor=world.coordinator, units=[helper])
    session.flush()
    for rows in (present_figures(session, by="unit", today=ctx.today),
                 tallied_figures(session, by="unit", today=ctx.today)):
        totals = {r.key: r.total for r in rows}
        assert totals.get(world.unit) == 1 and helper not in totals


def test_an_assisting_unit_hears_of_the_problem_in_its_digest(fresh_db):
    from rectify.flows.reminders import run_reminders

    web = build(fresh_db)
    with unit_of_work(DAY0, url=web.url) as ctx:  # Monday 22 August: due Wednesday 24th
        code = act.record(ctx, actor="督导员13", county=web.county, item="C01", description="危房改造未完工",
                          severity="一般", unit=web.unit, deadline=date(2016, 8, 24)).code
        act.sign(ctx, code, actor=web.handler)
        act.set_assists(ctx, code, actor=web.coordinator, units=[web.other_unit])
        lead, helper = get_unit(ctx.session, web.unit).id, get_unit(ctx.session, web.other_unit).id
    run_reminders(datetime(2016, 8, 23, 8, 30, tzinfo=SHANGHAI), with_tasks=False)
    with unit_of_work(DAY0, url=web.url) as ctx:
        def reminded(unit_id: int) -> set[str]:
            rows = ctx.session.scalars(select(Delivery).where(Delivery.recipient == unit_key(unit_id),
                                                              Delivery.kind == "due_tomorrow")).all()
            return {c for row in rows for c in row.issue_codes}

        assert code in reminded(lead) and code in reminded(helper)


def test_assisting_units_on_the_pages(fresh_db):
    from rectify.web.app import create_app

    web = build(fresh_db)
    with unit_of_work(DAY0, url=web.url) as ctx:
        code = act.record(ctx, actor="督导员13", county=web.county, item="C01", description="危房改造未完工",
                          severity="一般", unit=web.unit, deadline=date(2016, 9, 30)).code
        act.sign(ctx, code, actor=web.handler)
    app = create_app(url=web.url, as_of="2016-08-23 10:00")
    helper = login(app, web.other_handler)
    assert helper.get(f"/issues/{code}").status_code == 404  # not yet assisting: hidden

    coordinator = login(app, web.coordinator)
    page = coordinator.get(f"/issues/{code}").text
    form = page[page.index('id="form-assist"'):]
    assert f'value="{web.other_unit}"' in form and f'value="{web.unit}"' not in form.split("</form>")[0]
    take_step(coordinator, code, "assist", assist=[web.other_unit])
    assert web.other_unit in coordinator.get(f"/issues/{code}").text.split('id="assisting"')[1][:200]

    page = helper.get(f"/issues/{code}").text
    assert 'id="form-progress"' in page
    for name in ("sign", "submit", "extend", "pause", "send_back"):
        assert f'id="form-{name}"' not in page, name
    bench = helper.get("/workbench").text
    assert code in bench.split('id="assisting"')[1] and 'data-figure="assisting">1<' in bench
    assert "<title>本单位工作台 · rectify</title>" in bench and bench.count('id="assisting"') == 1
