"""回头看 in the browser (issue 17): a verifier draws a batch and downloads its workbook, uploads
it filled, the problem found again reopens; a county's 督查办 reads the rates only."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from samples import ANALYSIS, image
from test_web_pages import csrf, login
from webworld import DAY0, build

from rectify.flows import issue_actions as act
from rectify.flows.context import unit_of_work
from rectify.models.lookup import get_issue
from rectify.web.app import create_app


@pytest.fixture()
def world(fresh_db, tmp_path):
    world = build(fresh_db)
    photo = tmp_path / "现场.png"
    photo.write_bytes(image(b"recheck"))
    code = world.codes["assigned"]
    with unit_of_work(DAY0 + timedelta(hours=1), url=fresh_db) as ctx:
        act.sign(ctx, code, actor=world.handler)
        act.submit(ctx, code, actor=world.handler, **ANALYSIS, measures="作战图已上墙", evidence=[photo])
    with unit_of_work(DAY0 + timedelta(hours=2), url=fresh_db) as ctx:
        act.verify(ctx, code, actor=world.verifier, note="现场核实")
    return world


@pytest.fixture()
def app(world, prefect_harness):
    return create_app(url=world.url, as_of="2016-08-30 10:00")


def test_a_verifier_draws_uploads_and_the_problem_found_again_reopens(app, world):
    verifier = login(app, world.verifier)
    drawn = verifier.post("/recheck/plan", data={"csrf": csrf(verifier, "/recheck"), "share": "100%", "seed": 1,
                                                 "name": "网页回头看"})
    assert drawn.status_code == 200 and "已抽取「网页回头看」:1 个问题" in drawn.text
    link = re.search(r'href="([^"]+)" id="recheck-download"', drawn.text).group(1)
    got = verifier.get(link)
    assert got.status_code == 200, (link, got.status_code, got.text[:500])
    book = load_workbook(io.BytesIO(got.content))
    sheet = book["回头看"]
    row = next(sheet.iter_rows(min_row=2))
    assert row[0].value == world.codes["assigned"]
    row[7].value, row[8].value = "还在", "作战图又被取下"
    filled = io.BytesIO()
    book.save(filled)
    done = verifier.post("/recheck/import", data={"csrf": csrf(verifier, "/recheck")},
                         files={"file": ("回头看-已填.xlsx", filled.getvalue(), "application/octet-stream")})
    assert done.status_code == 200 and 'data-figure="reopened">1<' in done.text
    assert "100.0%" in done.text
    with unit_of_work(DAY0, url=world.url) as ctx:
        assert get_issue(ctx.session, world.codes["assigned"]).status.value == "rectifying"


def test_a_county_coordinator_reads_the_rates_but_runs_nothing(app, world):
    coordinator = login(app, world.coordinator)
    page = coordinator.get("/recheck").text
    assert "反弹率" in page and 'id="form-recheck-plan"' not in page
    refused = coordinator.post("/recheck/plan", data={"csrf": csrf(coordinator, "/recheck"), "share": "10%",
                                                      "seed": 1})
    assert refused.status_code == 400 and "县督查办不能抽取回头看" in refused.text
    assert login(app, world.handler).get("/recheck").status_code == 403
