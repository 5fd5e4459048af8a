"""Estimates with their uncertainty (issue 21): Wilson intervals, the two-stage ratio estimator
with its design effect, hand-computed and checked against statsmodels; the ranking's intervals
and possible ranks; the same numbers on the CLI, the API, the bulletin and the dashboard."""

from __future__ import annotations

import json
import math
from datetime import datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from rectify.flows.cli import app
from rectify.flows.context import unit_of_work
from rectify.models.calendar import SHANGHAI
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Level, Result
from rectify.models.estimates import Z, estimates, proportion, rank_bands, ratio, wilson
from rectify.models.figures import FigureRow
from rectify.models.inspections import Finding, Inspection
from rectify.models.places import County, Township, Village

proportion_confint = pytest.importorskip("statsmodels.stats.proportion").proportion_confint
AS_OF = datetime(2016, 9, 30, 23, 0, tzinfo=SHANGHAI)


def test_wilson_is_statsmodels_wilson():
    for successes, n in [(0, 10), (1, 10), (8, 40), (50, 100), (10, 10), (3, 7)]:
        low, high = wilson(successes, n)
        ref_low, ref_high = proportion_confint(successes, n, alpha=0.05, method="wilson")
        assert (low, high) == pytest.approx((ref_low, ref_high), abs=1e-9), (successes, n)
    assert wilson(0, 0) is None
    village = proportion(3, 10)
    assert village.value == 0.3 and village.deff == 1.0 and not village.too_small
    assert (village.low, village.high) == pytest.approx(proportion_confint(3, 10, method="wilson"))


def test_the_two_stage_ratio_estimate_by_hand():
    # Four villages, ten households checked in each; 2, 0, 5 and 1 with the problem.
    clusters = [(2, 10), (0, 10), (5, 10), (1, 10)]
    found = ratio(clusters)
    # p = 8 / 40; residuals y - p m: 0, -2, 3, -1; their squares sum to 14.
    # V = n/(n-1) * 14 / 40^2 = 4/3 * 14 / 1600 = 0.0116667; SRS: 0.2 * 0.8 / 40 = 0.004.
    assert found.value == pytest.approx(0.2)
    assert found.deff == pytest.approx((4 / 3 * 14 / 1600) / 0.004) == pytest.approx(2.916667, rel=1e-5)
    effective = 0.16 / (4 / 3 * 14 / 1600)
    assert found.effective == pytest.approx(effective) == pytest.approx(13.714286, rel=1e-5)
    assert (found.low, found.high) == pytest.approx(proportion_confint(0.2 * effective, effective, method="wilson"))
    assert found.clusters == 4 and found.units == 40 and not found.too_small
    # Drawn from eight villages in all: the finite-population correction halves the variance.
    halved = ratio(clusters, population=8)
    assert halved.deff == pytest.approx(found.deff / 2)
    # The interval is wider than a simple random sample of 40 households would give.
    simple = wilson(8, 40)
    assert found.high - found.low > simple[1] - simple[0]


def test_too_small_samples_and_empty_ones_say_so():
    assert ratio([(1, 3), (0, 2)]).too_small  # two villages
    assert ratio([(1, 10)]).too_small and ratio([(1, 10)]).deff is None
    empty = ratio([])
    assert empty.value is None and empty.too_small
    alike = ratio([(0, 10), (0, 10), (0, 10)])  # no village has it: no spread to measure
    assert alike.value == 0 and alike.low == 0 and alike.high == pytest.approx(wilson(0, 30)[1])


def row(key: str, closed: int, total: int, rank: int) -> FigureRow:
    return FigureRow(key=key, total=total, resolved_on_site=0, assigned=total, submitted=0, closed=closed,
                     closure_rate=closed / total, closure_rate_excl_on_site=closed / total, rectified_rate=None,
                     on_time_rate=None, overdue=0, verification_late=0, sign_on_time_rate=None, extension_rate=None,
                     return_rate=None, rebound_rate=None, median_days_to_close=None, rank=rank)


def test_the_ranking_shows_which_places_cannot_be_told_apart():
    # 95 of 100 (0.888-0.978), 9 of 10 (0.596-0.982), 40 of 100 (0.309-0.498), 3 of 3.
    rows = [row("乙县", 95, 100, 1), row("甲县", 9, 10, 2), row("丙县", 40, 100, 3), row("丁县", 0, 3, 4)]
    bands = rank_bands(rows)
    assert (bands["乙县"].best, bands["乙县"].worst) == (1, 2) and not bands["乙县"].apart_from_next
    assert (bands["甲县"].best, bands["甲县"].worst) == (1, 2) and bands["甲县"].apart_from_next
    assert bands["丙县"].ranks == "3–4" and bands["丁县"].too_small and not bands["甲县"].too_small
    assert bands["乙县"].interval == "88.8%–97.8%"


def _village_item(session, level: Level) -> CheckItem:
    return session.scalars(select(CheckItem).where(CheckItem.level == level).order_by(CheckItem.code)).first()


def seed_findings(session, county_name: str = "色达县") -> dict:
    """Four villages of the county, ten households each checked on one household item (2, 0, 5
    and 1 with the problem) and each village on one village item (two villages with it)."""
    county = session.scalars(select(County).where(County.name == county_name)).one()
    villages = session.scalars(select(Village).join(Township).where(Township.county_id == county.id)
                               .order_by(Village.id)).all()[:4]
    house_item, village_item = _village_item(session, Level.HOUSEHOLD), _village_item(session, Level.VILLAGE)
    inspection = Inspection(name="推算督导", campaign="推算", county=county)
    session.add(inspection)
    session.flush()
    n = 0

    def add(village, household, item, fail: bool) -> None:
        nonlocal n
        n += 1
        session.add(Finding(inspection_id=inspection.id, row_key=f"r{n}", content_hash="x",
                            result=Result.FAIL if fail else Result.PASS, county_id=county.id,
                            township_id=village.township_id, village_id=village.id,
                            household_id=household.id if household else None, check_item_id=item.id,
                            source="test", imported_at=datetime(2016, 8, 20, tzinfo=SHANGHAI)))

    for village, hits, village_fails in zip(villages, (2, 0, 5, 1), (True, False, True, False), strict=True):
        for index, household in enumerate(sorted(village.households, key=lambda h: h.id)[:10]):
            add(village, household, house_item, index < hits)
        add(village, None, village_item, village_fails)
    session.flush()
    frame = session.scalar(select(func.count(Village.id)).join(Township).where(Township.county_id == county.id))
    return {"county": county, "house": house_item, "village": village_item, "frame": frame}


def test_estimates_from_the_findings_of_a_two_stage_sample(session):
    seeded = seed_findings(session)
    [county] = estimates(session, as_of=AS_OF, county=seeded["county"])
    by_category = {c.category: c for c in county.categories}
    households = by_category[seeded["house"].category].households
    fpc = 1 - 4 / seeded["frame"]
    assert households.value == pytest.approx(0.2) and households.units == 40
    assert households.deff == pytest.approx(fpc * (4 / 3 * 14 / 1600) / 0.004)
    villages = by_category[seeded["village"].category].villages
    assert (villages.value, villages.units) == (0.5, 4) and villages.too_small is False
    # 10 problems in 44 checks: (2+1, 11), (0+0, 11), (5+1, 11), (1+0, 11).
    per_hundred = county.per_hundred
    assert per_hundred.value == pytest.approx(10 / 44 * 100)
    expected = ratio([(3, 11), (0, 11), (6, 11), (1, 11)], population=seeded["frame"])
    assert (per_hundred.low, per_hundred.high) == pytest.approx((expected.low * 100, expected.high * 100))
    assert math.isclose(Z, 1.96, abs_tol=1e-3)


def test_every_surface_shows_the_same_estimates_and_intervals(fresh_db, tmp_path):
    from rectify.flows import issue_actions as act
    from rectify.flows.reports.bulletin import compile_bulletin
    from rectify.models.estimates import interval_text

    with unit_of_work(AS_OF, url=fresh_db) as ctx:
        seeded = seed_findings(ctx.session)
        county = seeded["county"].name
        item = _village_item(ctx.session, Level.COUNTY)
        act.record(ctx, actor="督导员13", county=county, item=item.code, description="方案未细化", severity="一般")
    runner = CliRunner()
    listed = runner.invoke(app, ["estimates", "--format", "json", "--as-of", "2016-09-30"])
    assert listed.exit_code == 0, listed.output
    [cli] = [e for e in json.loads(listed.output) if e["county"] == county]
    table = runner.invoke(app, ["estimates", "--as-of", "2016-09-30"])
    assert table.exit_code == 0 and "设计效应" in table.output and "样本太少" in table.output
    bulletin = compile_bulletin(datetime(2016, 9, 30, 23, 0, tzinfo=SHANGHAI))
    [ranked] = [r for r in bulletin.ranking if r["key"] == county]
    assert ranked["per_hundred"] == f"{cli['per_hundred']['value']:.1f}"
    with unit_of_work(AS_OF, url=fresh_db) as ctx:
        [mine] = estimates(ctx.session, as_of=AS_OF, county=seeded["county"])
    assert ranked["per_hundred_interval"] == interval_text(mine.per_hundred, percent=False)
    report = runner.invoke(app, ["report", "--format", "json", "--as-of", "2016-09-30"])
    rows = json.loads(report.output)
    bands = {r["key"]: r["uncertainty"] for r in rows}
    assert all(b["rank_range"][0] <= r["rank"] <= b["rank_range"][1] for r, b in zip(rows, bands.values(),
                                                                                   strict=True))
    text = runner.invoke(app, ["report", "--as-of", "2016-09-30"]).output
    assert "排名的不确定性" in text


def test_the_api_and_the_dashboard_show_them_within_the_users_scope(fresh_db):
    from fastapi.testclient import TestClient
    from test_web_pages import login
    from webworld import build

    from rectify.web.app import create_app

    world = build(fresh_db)
    with unit_of_work(AS_OF, url=fresh_db) as ctx:
        seed_findings(ctx.session, world.county)
    app = create_app(url=world.url, as_of="2016-09-30")
    client = TestClient(app)

    def call(who: str, **params):
        return client.get("/api/estimates", params=params,
                          headers={"Authorization": f"Bearer {world.tokens[who]}"})

    mine = call(world.coordinator).json()
    assert [e["county"] for e in mine] == [world.county] and mine[0]["per_hundred"]["units"] == 44
    assert call(world.coordinator, county="理塘县").status_code == 404
    assert call(world.handler).status_code == 403
    assert world.county in {e["county"] for e in call(world.leader).json()}
    figures = client.get("/api/figures", headers={"Authorization": f"Bearer {world.tokens[world.leader]}"}).json()
    assert all({"closure_interval", "rank_range", "apart_from_next"} <= set(r["uncertainty"]) for r in figures)
    board = login(app, world.leader).get("/dashboard").text
    chart = board.split('id="closure-intervals"')[1].split("</svg>")[0]
    assert world.county in chart and chart.count("<line") >= 3 + 3  # the grid, then one interval's three lines


def test_a_voided_problem_is_no_problem_in_the_estimates(ctx):
    from rectify.flows import issue_actions as act
    from rectify.models.estimates import per_hundred_by_county

    seeded = seed_findings(ctx.session)
    county = seeded["county"].name
    issue = act.record(ctx, actor="督导员13", county=county, item=_village_item(ctx.session, Level.COUNTY).code,
                       description="重复登记", severity="一般")
    act.void(ctx, issue.code, actor="色达县督查办", reason="重复")
    failed = ctx.session.scalars(select(Finding).where(Finding.result == Result.FAIL).order_by(Finding.id)).first()
    failed.issue_id = issue.id
    ctx.session.flush()
    assert per_hundred_by_county(ctx.session, as_of=AS_OF)[county].value == pytest.approx(9 / 44 * 100)
    [found] = estimates(ctx.session, as_of=AS_OF, county=seeded["county"])
    assert found.per_hundred.value == pytest.approx(9 / 44 * 100)
