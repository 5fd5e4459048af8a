"""The world most lifecycle tests act in: a 理塘县 village, its household and unit, the users
of each role, and helpers that bring a problem to a given state. Its `world` fixture is
registered in conftest.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from samples import ANALYSIS, for_name
from sqlalchemy import select

from rectify.flows import issue_actions as act
from rectify.flows.context import Context
from rectify.models.calendar import SHANGHAI
from rectify.models.org import Unit
from rectify.models.places import County, Township, Village

T0 = datetime(2016, 8, 22, 10, 0, tzinfo=SHANGHAI)


@dataclass
class World:
    county: str
    township: str
    village: str
    household: str
    unit: str
    handler: str
    other_handler: str
    inspector: str = "督导员14"
    team_leader: str = "督导组长14"
    coordinator: str = "理塘县督查办"
    verifier: str = "核验员01"


@pytest.fixture()
def world(session, tmp_path, monkeypatch) -> World:
    monkeypatch.setenv("RECTIFY_HOME", str(tmp_path))
    county = session.scalars(select(County).where(County.name == "理塘县")).one()
    village = session.scalars(
        select(Village).join(Township).where(Township.county_id == county.id, Village.planned_exit_year == 2016)
        .order_by(Village.id)
    ).first()
    other = session.scalars(
        select(Unit).where(Unit.county_id == county.id, Unit.id != village.assisting_unit_id,
                           Unit.name.like("%局"))
    ).first()
    return World(
        county=county.name, township=village.township.name, village=village.name,
        household=village.households[0].registry_no, unit=village.assisting_unit.name,
        handler=f"{village.assisting_unit.name}经办人", other_handler=f"{other.name}经办人",
    )


def at(ctx: Context, days: float) -> Context:
    ctx.now = T0 + timedelta(days=days)
    return ctx


def photo(tmp_path, name="现场.png", content=b"photo") -> str:
    """A real image of the type the name says, made from `content` (same content, same file)."""
    path = tmp_path / name
    path.write_bytes(for_name(name, content))
    return path


def new_issue(ctx, w: World, **kw):
    args = dict(actor=w.inspector, county=w.county, township=w.township, village=w.village,
                household=w.household, item="安全住房", description="住房墙体开裂", severity="严重")
    args.update(kw)
    return act.record(ctx, **args)


def assigned(ctx, w):
    issue = new_issue(ctx, w)
    act.assign(ctx, issue.code, actor=w.coordinator, unit=w.unit)
    return issue


def rectifying(ctx, w):
    issue = assigned(ctx, w)
    act.sign(at(ctx, 1), issue.code, actor=w.handler)
    return issue


def submitted(ctx, w, tmp_path):
    issue = rectifying(ctx, w)
    act.submit(at(ctx, 2), issue.code, actor=w.handler, **ANALYSIS, measures="已加固墙体", evidence=[photo(tmp_path)])
    return issue
