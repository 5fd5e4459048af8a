"""Documents in the browser (issue 17): the ledger, an inspection's feedback and the weekly
bulletins, made by the commands' own code, scoped to the coordinator's county."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from test_web_pages import login
from webworld import DAY0, build

from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.flows.intake.plan import get_or_create_inspection
from rectify.models.figures import figures
from rectify.web.app import create_app

AS_OF = "2016-08-23 10:00"


@pytest.fixture()
def world(fresh_db):
    world = build(fresh_db)
    with unit_of_work(DAY0, url=fresh_db) as ctx:
        get_or_create_inspection(ctx, "色达县下载督导", county=world.county, campaign=None, leader=None, team=None)
        get_or_create_inspection(ctx, "理塘县下载督导", county="理塘县", campaign=None, leader=None, team=None)
    return world


@pytest.fixture()
def app(world):
    return create_app(url=world.url, as_of=AS_OF)


def test_a_county_coordinator_downloads_its_own_ledger_whatever_the_link_asks(app, world):
    coordinator = login(app, world.coordinator)
    page = coordinator.get("/downloads").text
    assert f"{world.county}整改台账" in page and "全州整改台账" not in page and "理塘县下载督导" not in page
    for asked in ("", "?county=理塘县", f"?county={world.county}"):
        answer = coordinator.get("/downloads/ledger.xlsx" + asked)
        assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
        book = load_workbook(io.BytesIO(answer.content))
        assert book.sheetnames == ["汇总", world.county], asked
    sheet = book[world.county]
    codes = {row[1] for row in sheet.iter_rows(min_row=3, values_only=True) if row[1]}  # 序号, 问题编号, …
    with unit_of_work(parse_instant(AS_OF), url=world.url) as ctx:
        total = next(r for r in figures(ctx.session, by="county", as_of=ctx.now, calendar=ctx.calendar,
                                        policy=ctx.policy) if r.key == world.county).total
    assert len(codes) == total  # the ledger lists the problems the figures count
    assert coordinator.get("/downloads/feedback.md", params={"inspection": "理塘县下载督导"}).status_code == 403
    mine = coordinator.get("/downloads/feedback.md", params={"inspection": "色达县下载督导"})
    assert mine.status_code == 200 and "色达县下载督导" in mine.content.decode("utf-8")


def test_units_and_leaders_do_not_download_ledgers(app, world):
    assert login(app, world.handler).get("/downloads/ledger.xlsx").status_code == 403
    assert login(app, world.leader).get("/downloads").status_code == 403


def test_the_weekly_bulletins_the_flow_wrote_are_listed_and_download(app, world, prefect_harness):
    from rectify.flows.reports.bulletin import weekly_bulletin

    weekly_bulletin(parse_instant(AS_OF))
    coordinator = login(app, world.coordinator)
    page = coordinator.get("/downloads").text
    names = [n for n in page.split('href="/downloads/bulletins/')[1:]]
    assert names, page
    first = names[0].split('"')[0]
    answer = coordinator.get(f"/downloads/bulletins/{first}")
    assert answer.status_code == 200 and len(answer.content) > 100
    assert coordinator.get("/downloads/bulletins/..%2F..%2Fsecret_key").status_code == 404


def test_a_problems_dossier_downloads_for_those_who_may_open_it(app, world):
    code = world.codes["assigned"]
    coordinator = login(app, world.coordinator)
    assert f'href="/issues/{code}/dossier.xlsx"' in coordinator.get(f"/issues/{code}").text
    dossier = coordinator.get(f"/issues/{code}/dossier.xlsx")
    assert dossier.status_code == 200
    cells = [str(c) for sheet in load_workbook(io.BytesIO(dossier.content)).worksheets
             for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert any(code in c for c in cells) and any("作战图未上墙" in c for c in cells)
    unit = login(app, world.handler)
    assert unit.get(f"/issues/{code}/dossier.xlsx").status_code == 403
    assert 'id="dossier"' not in unit.get(f"/issues/{code}").text


def _docx(answer):
    from docx import Document

    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessing")
    document = Document(io.BytesIO(answer.content))
    return document, [[c.text for c in row.cells] for t in document.tables for row in t.rows]


def test_a_unit_downloads_its_own_notice_whatever_unit_the_link_names(app, world):
    handler = login(app, world.handler)
    page = handler.get("/documents").text
    assert "整改通知书" in page and world.unit in page and "整改情况报告" not in page
    for asked in ("", world.other_unit):
        document, rows = _docx(handler.get("/documents/notice.docx", params={"unit": asked}))
        assert f"{world.unit}:" in [p.text for p in document.paragraphs]
        codes = {r[1] for r in rows[1:]}
        assert world.codes["assigned"] in codes and world.codes["other"] not in codes
    # Downloaded again: the same 发文字号 (the register numbers a document once).
    first = _docx(handler.get("/documents/notice.docx"))[0]
    again = _docx(handler.get("/documents/notice.docx"))[0]
    number = [p.text for p in first.paragraphs if "督改〔" in p.text]
    assert number and number == [p.text for p in again.paragraphs if "督改〔" in p.text]
    assert handler.get("/documents/report.docx", params={"county": world.county}).status_code == 403


def test_a_county_coordinator_reports_on_its_own_county_only(app, world):
    coordinator = login(app, world.coordinator)
    document, rows = _docx(coordinator.get("/documents/report.docx", params={"county": "理塘县"}))
    assert any(p.text == f"关于{world.county}督导发现问题整改情况的报告" for p in document.paragraphs)
    with unit_of_work(parse_instant(AS_OF), url=world.url) as ctx:
        total = next(r for r in figures(ctx.session, by="county", as_of=ctx.now, calendar=ctx.calendar,
                                        policy=ctx.policy) if r.key == world.county).total
    assert dict(r for r in rows if len(r) == 2)["问题数"] == str(total)
    assert coordinator.get("/documents/report.docx", params={"inspection": "理塘县下载督导"}).status_code == 403
    # A 督办单 for a unit with nothing raised says so on the page, not with a traceback.
    refused = coordinator.get("/documents/urge.docx", params={"unit": world.unit, "level": "red"})
    assert refused.status_code == 404 and "红牌" in refused.text


def test_the_delivery_ledger_page_shows_reads_kept_to_the_coordinators_county(app, world):
    from rectify.models.deliveries import Delivery
    from rectify.models.enums import DeliveryStatus, MessageKind, ReadState
    from rectify.models.lookup import get_unit
    from rectify.notifications.ledger import Notice, queue

    with unit_of_work(DAY0, url=world.url) as ctx:
        own, far = get_unit(ctx.session, world.unit), get_unit(ctx.session, "理塘县水务局")
        queue(ctx.session, [Notice(f"unit:{u.id}", MessageKind.OVERDUE, "逾期", DAY0.date(),
                                   [{"issue_id": None, "code": code, "cursor": None}])
                            for u, code in ((own, "GZ-2016-09001"), (far, "GZ-2016-09002"))], now=DAY0)
        for row in ctx.session.query(Delivery):
            row.status, row.read_state, row.channel = DeliveryStatus.SENT, ReadState.UNREAD, "rdingwork://ding****/****"
    coordinator = login(app, world.coordinator)
    page = coordinator.get("/deliveries", params={"show": "unread"}).text
    assert world.unit in page and "理塘县水务局" not in page and "未读" in page
    assert "共 1 条" in page and '<td data-label="问题数">1</td>' in page
    assert login(app, world.handler).get("/deliveries").status_code == 403
