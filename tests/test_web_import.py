"""The coordinator's import in the browser (issue 17): check first, errors by sheet, row and
column with the marked copy to download, then the import through the import-findings flow;
a county coordinator imports into their own county's inspections only."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from test_web_pages import csrf, login
from webworld import DAY0, PASSWORD, build

from rectify.flows.context import unit_of_work
from rectify.flows.intake.columns import COLUMNS, ERROR_HEADER
from rectify.flows.intake.plan import get_or_create_inspection
from rectify.models.accounts import set_password
from rectify.models.inspections import Finding
from rectify.models.lookup import get_user
from rectify.models.places import Village
from rectify.web.app import create_app

HEADERS = [c.header for c in COLUMNS]


@pytest.fixture()
def world(fresh_db):
    world = build(fresh_db)
    with unit_of_work(DAY0, url=fresh_db) as ctx:
        get_or_create_inspection(ctx, "色达县网页导入", county=world.county, campaign=None, leader="督导组长14",
                                 team=None)
        get_or_create_inspection(ctx, "理塘县另一督导", county="理塘县", campaign=None, leader=None, team=None)
        village = ctx.session.scalars(select(Village).where(Village.assisting_unit.has(name=world.unit))).first()
        set_password(get_user(ctx.session, "理塘县督查办"), PASSWORD)
        world.place = (village.township.name, village.name)
    return world


@pytest.fixture()
def app(world, prefect_harness):
    return create_app(url=world.url, as_of="2016-08-23 10:00")


def workbook(world, *rows: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "村"
    sheet.append(HEADERS)
    township, village = world.place
    for extra in rows:
        row = {"县(市)": world.county, "乡(镇)": township, "村": village, "检查人": "督导员13",
               "检查日期": "2016-08-22", "检查项目": "V11", **extra}
        sheet.append([row.get(h) for h in HEADERS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, inspection: str, content: bytes, mode: str, name: str = "色达县检查表.xlsx"):
    return client.post("/coordinator/import", data={"csrf": csrf(client, "/coordinator/import"),
                                                    "inspection": inspection, "mode": mode},
                       files={"file": (name, content, "application/octet-stream")})


def findings(world) -> int:
    with unit_of_work(DAY0, url=world.url) as ctx:
        return ctx.session.scalar(select(func.count()).select_from(Finding))


def test_check_then_import_the_same_file_without_uploading_it_again(app, world):
    coordinator = login(app, world.coordinator)
    assert 'href="/coordinator/import"' in coordinator.get("/coordinator").text
    content = workbook(world, {"结果": "不符合", "问题描述": "帮扶台账缺页", "严重程度": "一般"}, {"结果": "符合"})
    checked = upload(coordinator, "色达县网页导入", content, "check")
    assert checked.status_code == 200 and "检查通过:共 2 行" in checked.text and findings(world) == 0
    token = re.search(r'action="/coordinator/import/([^"]+)"', checked.text).group(1)
    done = coordinator.post(f"/coordinator/import/{token}", data={"csrf": csrf(coordinator, "/coordinator/import")})
    assert done.status_code == 200 and 'data-figure="created">1<' in done.text and findings(world) == 2
    again = upload(coordinator, "色达县网页导入", content, "import")
    assert "此前已导入 2 行" in again.text and findings(world) == 2


def test_errors_are_listed_by_sheet_row_and_column_and_the_marked_copy_downloads(app, world):
    coordinator = login(app, world.coordinator)
    content = workbook(world, {"结果": "不符合", "问题描述": "缺页", "严重程度": "特别严重"},
                       {"结果": "符合", "县(市)": "色达"})
    answer = upload(coordinator, "色达县网页导入", content, "import")
    assert answer.status_code == 400 and "2 处错误,未写入任何数据" in answer.text and findings(world) == 0
    errors = re.findall(r"<li>([^<]+)</li>", answer.text)
    assert any("工作表「村」 第 2 行" in e and "严重程度" in e for e in errors)
    assert any("工作表「村」 第 3 行" in e and "县(市)" in e for e in errors)
    link = re.search(r'href="(/files/[^"]+)" id="marked-copy"', answer.text).group(1)
    marked = coordinator.get(link)
    assert marked.status_code == 200 and "attachment" in marked.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(marked.content))["村"]
    assert ERROR_HEADER in [c.value for c in sheet[1]]
    # Another coordinator cannot fetch it.
    other = login(app, "理塘县督查办")
    assert other.get(link).status_code == 404


def test_a_broken_file_is_one_plain_reason(app, world):
    coordinator = login(app, world.coordinator)
    answer = upload(coordinator, "色达县网页导入", b"", "check")
    assert answer.status_code == 400 and "是空的(0 字节)" in answer.text and "Traceback" not in answer.text
    old = upload(coordinator, "色达县网页导入", b"\xd0\xcf\x11\xe0", "check", name="旧表.xls")
    assert old.status_code == 400 and "另存为 .xlsx" in old.text


def test_a_county_coordinator_imports_into_their_own_county_only(app, world):
    coordinator = login(app, world.coordinator)
    page = coordinator.get("/coordinator/import").text
    assert "色达县网页导入" in page and "理塘县另一督导" not in page
    refused = upload(coordinator, "理塘县另一督导", workbook(world, {"结果": "符合"}), "import")
    assert refused.status_code == 400 and "不是本县的" in refused.text and findings(world) == 0
    unit = login(app, world.handler)
    assert unit.get("/coordinator/import").status_code == 403
    assert TestClient(app).get("/coordinator/import", follow_redirects=False).status_code == 303


def test_the_page_can_read_how_far_its_import_got(app, world, monkeypatch):
    from rectify.flows.intake import importer

    monkeypatch.setattr(importer, "PROGRESS_EVERY", 1)  # a note every row
    coordinator = login(app, world.coordinator)
    form = coordinator.get("/coordinator/import").text
    ticket = re.search(r'name="ticket" value="([^"]+)"', form).group(1)
    assert f'data-progress="/coordinator/import/progress/{ticket}"' in form
    assert coordinator.get(f"/coordinator/import/progress/{ticket}").json()["rows"] == 0
    content = workbook(world, {"结果": "符合"}, {"结果": "符合", "检查项目": "V12"},
                       {"结果": "符合", "检查项目": "V13"})
    coordinator.post("/coordinator/import", data={"csrf": csrf(coordinator, "/coordinator/import"), "ticket": ticket,
                                                  "inspection": "色达县网页导入", "mode": "check"},
                     files={"file": ("三行.xlsx", content, "application/octet-stream")})
    assert coordinator.get(f"/coordinator/import/progress/{ticket}").json() == {"rows": 3, "errors": 0,
                                                                               "stage": "完成"}
    # Another user cannot read it.
    other = login(app, "理塘县督查办")
    assert other.get(f"/coordinator/import/progress/{ticket}").json()["rows"] == 0
