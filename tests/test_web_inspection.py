"""A whole inspection without a terminal (issue 17): the 督查办 draws the sample and downloads
the field workbook, sees the coverage, the team fills it, the 督查办 uploads it, assigns a
problem waiting for a unit and downloads the ledger, all through the pages."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from test_web_pages import csrf, login
from webworld import build

from rectify.flows.demo_findings import fill_plan
from rectify.web.app import create_app


@pytest.fixture()
def world(fresh_db):
    return build(fresh_db)


@pytest.fixture()
def app(world, prefect_harness):
    return create_app(url=world.url, as_of="2016-08-23 10:00")


def test_plan_coverage_import_assign_and_ledger_in_the_browser(app, world, tmp_path):
    coordinator = login(app, world.coordinator)
    page = "/coordinator/plan"
    form = coordinator.get(page).text
    assert f'<option value="{world.county}"' in form and "全州各县" not in form
    drawn = coordinator.post(page, data={"csrf": csrf(coordinator, page), "inspection": "色达县网页督导",
                                         "county": world.county, "villages": 2, "households": 2, "seed": 7,
                                         "leader": "督导组长14"})
    assert drawn.status_code == 200 and "已为「色达县网页督导」抽样:色达县 2 个村、4 户" in drawn.text
    link = re.search(r'href="([^"]+)" id="plan-download"', drawn.text).group(1)
    plan = tmp_path / "plan.xlsx"
    plan.write_bytes(coordinator.get(link).content)
    assert load_workbook(plan).sheetnames == ["县", "村", "户", "填写说明"]
    covered = coordinator.get("/coverage").text
    assert re.search(r'data-label="已抽样未检查">2<', covered) and "已抽样待检查" in covered

    filled = tmp_path / "filled.xlsx"
    made = fill_plan(plan, filled, seed=3, leader="督导组长14", checked_on=date(2016, 8, 22), inspector="督导员13",
                     fail_share=0.3)
    imported = coordinator.post("/coordinator/import",
                                data={"csrf": csrf(coordinator, "/coordinator/import"), "inspection": "色达县网页督导",
                                      "mode": "import"},
                                files={"file": ("filled.xlsx", filled.read_bytes(), "application/octet-stream")})
    assert imported.status_code == 200, imported.text
    created = int(re.search(r'data-figure="created">(\d+)<', imported.text).group(1))
    assert created == made["不符合"] > 0
    after = coordinator.get("/coverage").text
    assert re.search(r'data-label="已检查">2<', after)

    triage = world.codes["triage"]
    issue = f"/issues/{triage}"
    assigned = coordinator.post(f"{issue}/act/assign", data={"csrf": csrf(coordinator, issue), "unit": world.unit})
    assert "已交办" in assigned.text
    ledger = coordinator.get("/downloads/ledger.xlsx")
    sheet = load_workbook(io.BytesIO(ledger.content))[world.county]
    codes = {row[1] for row in sheet.iter_rows(min_row=3, values_only=True) if row[1]}
    assert triage in codes and len(codes) >= created


def test_a_county_coordinator_cannot_plan_another_county(app, world):
    coordinator = login(app, world.coordinator)
    page = "/coordinator/plan"
    refused = coordinator.post(page, data={"csrf": csrf(coordinator, page), "inspection": "越权督导",
                                           "county": "理塘县", "villages": 2, "households": 2, "seed": 1})
    assert refused.status_code == 400 and "不在您可以抽样的范围内" in refused.text
    whole = coordinator.post(page, data={"csrf": csrf(coordinator, page), "inspection": "越权督导", "county": "",
                                         "villages": 2, "households": 2, "seed": 1})
    assert whole.status_code == 400
    assert login(app, world.handler).get(page).status_code == 403
