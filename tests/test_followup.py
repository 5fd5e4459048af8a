"""举一反三 where the sample points (issue 21): the next inspection's sample at the unsampled
villages and households most like those where a problem was found, checking those problem types."""

from __future__ import annotations

from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from rectify.flows.intake.plan import make_followup_plan
from rectify.models.calendar import SHANGHAI
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Level, Result
from rectify.models.errors import InvalidInput
from rectify.models.inspections import Finding, Inspection, InspectionSample
from rectify.models.places import County, Township, Village


def _source(session, county_name: str = "理塘县"):
    """An inspection that sampled three villages of the county and found, in the first, one
    village-level and one household-level problem; the others passed."""
    county = session.scalars(select(County).where(County.name == county_name)).one()
    villages = session.scalars(select(Village).join(Township).where(Township.county_id == county.id,
                                                                     Village.is_poor.is_(True))
                               .order_by(Village.id)).all()
    sampled = villages[:3]
    village_item = session.scalars(select(CheckItem).where(CheckItem.level == Level.VILLAGE)
                                   .order_by(CheckItem.code)).first()
    house_item = session.scalars(select(CheckItem).where(CheckItem.level == Level.HOUSEHOLD)
                                 .order_by(CheckItem.code)).first()
    source = Inspection(name="第一批·理塘县", campaign="2016年脱贫攻坚督导", county=county)
    session.add(source)
    session.flush()
    n = 0
    for village in sampled:
        session.add(InspectionSample(inspection_id=source.id, county_id=county.id, village_id=village.id))
        home = sorted(village.households, key=lambda h: h.id)[0]
        session.add(InspectionSample(inspection_id=source.id, county_id=county.id, village_id=village.id,
                                     household_id=home.id))
        for item, household in ((village_item, None), (house_item, home)):
            n += 1
            fail = village is sampled[0]
            session.add(Finding(inspection_id=source.id, row_key=f"f{n}", content_hash="x",
                                result=Result.FAIL if fail else Result.PASS, county_id=county.id,
                                township_id=village.township_id, village_id=village.id,
                                household_id=household.id if household else None, check_item_id=item.id,
                                source="test", imported_at=datetime(2016, 8, 20, tzinfo=SHANGHAI)))
    session.flush()
    return {"county": county, "villages": villages, "sampled": sampled, "items": {village_item.id, house_item.id},
            "titles": {f"{village_item.code} {village_item.title}", f"{house_item.code} {house_item.title}"}}


def likeness(village: Village, found: Village) -> int:
    return ((village.township_id == found.township_id) + (village.planned_exit_year == found.planned_exit_year)
            + (village.assisting_unit_id == found.assisting_unit_id))


def test_the_followup_goes_where_the_sample_points_and_checks_what_was_found(ctx, tmp_path):
    world = _source(ctx.session)
    result = make_followup_plan(ctx, source="第一批·理塘县", inspection="举一反三·理塘县", villages=4, households=2,
                                out=tmp_path / "plan.xlsx")
    [sample] = result.samples
    found_at = world["sampled"][0]
    chosen = {v.id for v in sample.villages}
    assert len(chosen) == 4 and not chosen & {v.id for v in world["sampled"]}  # never a sampled village
    # Every chosen village is at least as like the problem village as every village left out.
    left = [v for v in world["villages"] if v.id not in chosen and v not in world["sampled"]]
    assert min(likeness(v, found_at) for v in sample.villages) >= max(likeness(v, found_at) for v in left)
    assert all(len(hs) == 2 for hs in sample.households.values())
    # The workbook checks the problem types found, nothing else, at those places.
    book = load_workbook(tmp_path / "plan.xlsx")
    items = set()
    for name in ("村", "户"):
        rows = list(book[name].iter_rows(values_only=True))
        column = rows[0].index("检查项目")
        items |= {row[column] for row in rows[1:] if row[0]}
    assert items == world["titles"]
    assert result.rows["县"] == 0 and result.rows["村"] == 4 and result.rows["户"] == 4 * 2
    # Drawn again: the same sample (kept as drawn).
    again = make_followup_plan(ctx, source="第一批·理塘县", inspection="举一反三·理塘县", villages=4, households=2,
                               out=tmp_path / "again.xlsx")
    assert {v.id for v in again.samples[0].villages} == chosen


def test_a_followup_without_problems_or_onto_itself_is_refused(ctx, tmp_path):
    _source(ctx.session)
    with pytest.raises(InvalidInput, match="同名"):
        make_followup_plan(ctx, source="第一批·理塘县", inspection="第一批·理塘县", villages=2, households=1,
                           out=tmp_path / "x.xlsx")
    quiet = Inspection(name="无问题督导", campaign="2016年脱贫攻坚督导")
    ctx.session.add(quiet)
    ctx.session.flush()
    with pytest.raises(InvalidInput, match="无需举一反三"):
        make_followup_plan(ctx, source="无问题督导", inspection="举一反三·无", villages=2, households=1,
                           out=tmp_path / "y.xlsx")


def test_the_command_writes_the_followup_plan(fresh_db, tmp_path):
    from typer.testing import CliRunner

    from rectify.flows.cli import app
    from rectify.flows.context import unit_of_work

    with unit_of_work(datetime(2016, 8, 25, tzinfo=SHANGHAI), url=fresh_db) as ctx:
        _source(ctx.session)
    out = tmp_path / "举一反三.xlsx"
    result = CliRunner().invoke(app, ["plan", "--from-findings", "第一批·理塘县", "--inspection", "举一反三·理塘县",
                                      "--villages", "3", "--households", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "理塘县" in result.output and out.exists() and "村 3 行" in result.output
    refused = CliRunner().invoke(app, ["plan", "--from-findings", "没有这次督导", "--inspection", "x",
                                       "--out", str(out)])
    assert refused.exit_code == 1 and "没有这次督导" in refused.output
