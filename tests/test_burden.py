"""The burden on the grassroots (基层减负, issue 21): visits, evidence requests and reminders
counted; the policy's caps respected by the planner and the reminder flow; the bulletin shows it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from samples import ANALYSIS
from sqlalchemy import select, update
from typer.testing import CliRunner

from rectify.flows import issue_actions as act
from rectify.flows.cli import app
from rectify.flows.context import unit_of_work
from rectify.flows.reminders import run_reminders
from rectify.models.burden import unit_burden
from rectify.models.calendar import SHANGHAI
from rectify.models.deliveries import Delivery
from rectify.models.enums import DeliveryStatus
from rectify.models.inspections import Inspection
from rectify.models.places import County, Township, Village
from rectify.models.policy import PolicySetting, load_policy
from rectify.models.sampling import draw_sample

COUNTY = "色达县"
MONDAY = datetime(2016, 8, 22, 10, 0, tzinfo=SHANGHAI)


def set_policy(session, **values) -> None:
    for key, value in values.items():
        if session.get(PolicySetting, key) is None:
            session.add(PolicySetting(key=key, value=value))
        else:
            session.execute(update(PolicySetting).where(PolicySetting.key == key).values(value=value))
    session.flush()


def at(day: date, hour: int = 8, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def test_a_unit_at_its_days_cap_of_digests_waits_for_the_next_day(fresh_db, tmp_path):
    photo = tmp_path / "p.png"
    from samples import image

    photo.write_bytes(image(b"1"))
    with unit_of_work(MONDAY) as ctx:
        set_policy(ctx.session, reminders_per_unit_per_day=1)
        village = ctx.session.scalars(select(Village).join(Township).join(County).where(County.name == COUNTY)
                                      .order_by(Village.id)).first()
        unit = village.assisting_unit.name
        issue = act.record(ctx, actor="督导员14", county=COUNTY, village=village.name, item="作战图",
                           description="作战图未上墙", severity="严重", unit=unit)
        code = issue.code
    tuesday = date(2016, 8, 23)
    first = run_reminders(at(tuesday), with_tasks=False)
    assert first.delivered >= 1 and first.held == 0
    with unit_of_work(at(tuesday, 9)) as ctx:
        act.sign(ctx, code, actor=f"{unit}经办人")
    with unit_of_work(at(tuesday, 10)) as ctx:
        act.submit(ctx, code, actor=f"{unit}经办人", **ANALYSIS, measures="已上墙", evidence=[photo])
    with unit_of_work(at(tuesday, 11)) as ctx:
        act.return_submission(ctx, code, actor="核验员01", reason="照片看不清")
    second = run_reminders(at(tuesday, 12), with_tasks=False)
    assert second.held == 1  # the 退回重改 notice waits: the unit had its one digest today
    with unit_of_work(at(tuesday, 12)) as ctx:
        waiting = ctx.session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.QUEUED)).all()
        assert [d.kind.value for d in waiting] == ["returned"]
        loads = {x.key: x for x in unit_burden(ctx.session, since=MONDAY, until=at(tuesday, 12),
                                               policy=load_policy(ctx.session))}
        assert loads[unit].reminders == 1 and loads[unit].busiest_day == 1 and not loads[unit].over_cap
        assert loads[unit].evidence_requests == 2  # handed over, then sent back
    third = run_reminders(at(tuesday + timedelta(days=1)), with_tasks=False)
    assert third.held == 0 and third.delivered >= 1
    with unit_of_work(at(tuesday, 12)) as ctx:
        assert not ctx.session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.QUEUED)).all()
    shown = CliRunner().invoke(app, ["burden", "--format", "json", "--as-of", "2016-08-24 12:00",
                                     "--since", "2016-08-20"])
    assert shown.exit_code == 0, shown.output
    assert {r["key"]: r["reminders"] for r in json.loads(shown.output)}[unit] == 2


def test_the_planner_keeps_to_the_visits_per_village_and_household(session):
    county = session.scalars(select(County).where(County.name == COUNTY)).one()
    first = Inspection(name="第一轮", campaign="减负批次", county=county)
    second = Inspection(name="第二轮", campaign="减负批次", county=county)
    session.add_all([first, second])
    session.flush()
    drawn = draw_sample(session, inspection=first, county=county, villages=1000, households=2, seed=1, year=2016)
    set_policy(session, visits_per_village_per_campaign=1)
    again = draw_sample(session, inspection=second, county=county, villages=1000, households=2, seed=1, year=2016)
    assert drawn.villages and not {v.id for v in drawn.villages} & {v.id for v in again.villages}
    third = Inspection(name="第三轮", campaign="减负批次", county=county)
    session.add(third)
    session.flush()
    set_policy(session, visits_per_village_per_campaign=2)
    later = draw_sample(session, inspection=third, county=county, villages=1000, households=2, seed=1, year=2016)
    assert {v.id for v in drawn.villages} <= {v.id for v in later.villages}  # sampled once: may come again
    households = {h.id for hs in drawn.households.values() for h in hs}
    assert not households & {h.id for hs in later.households.values() for h in hs}  # a household: once


def test_the_bulletin_shows_the_burden_beside_the_closure_rate(fresh_db):
    from rectify.flows.reports.bulletin import compile_bulletin, write_files

    with unit_of_work(MONDAY) as ctx:
        village = ctx.session.scalars(select(Village).join(Township).join(County).where(County.name == COUNTY)
                                      .order_by(Village.id)).first()
        act.record(ctx, actor="督导员14", county=COUNTY, village=village.name, item="作战图",
                   description="作战图未上墙", severity="严重", unit=village.assisting_unit.name)
    bulletin = compile_bulletin(MONDAY + timedelta(days=1))
    [row] = [b for b in bulletin.burden if b["county"] == COUNTY]
    assert row["evidence_requests"] == 1 and row["closure"] == "0.0%"
    from rectify.models.db import rectify_home

    write_files(bulletin, rectify_home() / "bulletins")
    text = bulletin.markdown.read_text(encoding="utf-8")
    assert "基层负担" in text and f"| {COUNTY} | 0.0% |" in text
