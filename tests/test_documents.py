"""The official documents (issue 19): each kind written from a small campaign, read back with
python-docx (the 版头, the tables, the figures equal to models.figures, the layout GB/T 9704
asks for), numbered once in the register, and rendered to PDF by LibreOffice."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta

import pytest
from docx import Document
from samples import ANALYSIS
from sqlalchemy import select
from test_print import render
from world import at, new_issue, photo

from rectify.flows import issue_actions as act
from rectify.flows.reports.columns import shown
from rectify.flows.reports.official import Clock, notice, reconcile, report, urge
from rectify.models.documents import IssuedDocument
from rectify.models.enums import DocumentKind, Supervision
from rectify.models.errors import InvalidInput, NotFound
from rectify.models.figures import figures
from rectify.models.lookup import get_county, get_issue, get_unit, get_user
from rectify.models.overlays import days_to

SOFFICE, PDFTOTEXT = shutil.which("soffice"), shutil.which("pdftotext")


def campaign(ctx, w, tmp_path) -> list[str]:
    """Five problems for one unit: one closed on time, one submitted, two overdue (one raised to
    黄牌), one resolved on site; returns their codes."""
    codes = []
    for n, (item, text) in enumerate([("安全住房", "住房墙体开裂"), ("安全饮水", "饮水不达标"),
                                      ("安全住房", "屋顶漏雨"), ("作战图", "作战图未上墙")]):
        issue = new_issue(at(ctx, 0), w, item=item, description=text, severity="较重" if n else "严重")
        act.assign(ctx, issue.code, actor=w.coordinator, unit=w.unit)
        codes.append(issue.code)
    act.sign(at(ctx, 1), codes[0], actor=w.handler)
    act.submit(at(ctx, 2), codes[0], actor=w.handler,
        **ANALYSIS, measures="已加固墙体并验收", evidence=[photo(tmp_path)])
    act.verify(at(ctx, 3), codes[0], actor=w.verifier, note="现场核实已整改")
    act.sign(at(ctx, 1), codes[1], actor=w.handler)
    act.submit(at(ctx, 2), codes[1], actor=w.handler, **ANALYSIS, measures="已更换净水设备",
               evidence=[photo(tmp_path, "水.png", b"water")])
    act.escalate(at(ctx, 20), codes[2], actor=w.coordinator, level="黄牌", note="逾期升级")
    on_site = new_issue(at(ctx, 0), w, item="明白卡", description="明白卡未张贴", on_site="当场张贴",
                        cosign=w.team_leader)
    codes.append(on_site.code)
    return codes


def read(path) -> dict:
    doc = Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    return {"doc": doc, "texts": texts, "tables": tables, "all": "\n".join(texts)}


def faces(doc) -> set[str]:
    return {r._element.rPr.rFonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")
            for p in doc.paragraphs for r in p.runs if r._element.rPr is not None and r._element.rPr.rFonts is not None}


def test_the_notice_lists_the_batch_in_the_gbt_9704_layout(ctx, world, tmp_path):
    codes = campaign(ctx, world, tmp_path)
    unit = get_unit(ctx.session, world.unit)
    clock = Clock(at(ctx, 0).now, ctx.calendar, ctx.policy)
    written = notice(ctx.session, unit, tmp_path / "通知书.docx", clock=clock)
    got = read(written.path)
    assert written.problems == 4 and written.reference == "理督改〔2016〕1号"
    # 版头: the office's mark, the 发文字号, the title, the addressee; then the problems.
    assert got["texts"][0] == "理塘县督查办文件" and written.reference in got["texts"]
    assert f"{world.unit}:" in got["texts"]
    table = got["tables"][0]
    assert table[0] == ["序号", "问题编号", "地点", "检查项目", "问题描述", "严重程度", "整改时限"]
    assert [row[1] for row in table[1:]] == codes[:4]  # by deadline: the 严重 one first
    assert "理塘县督查办" in got["texts"][-2] and got["texts"][-1] == "2016年8月22日"
    # Page and faces: A4, the standard's margins, 仿宋 body, 小标宋 title, a Noto fallback named.
    section = got["doc"].sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (round(section.top_margin.mm), round(section.left_margin.mm), round(section.right_margin.mm),
            round(section.bottom_margin.mm)) == (37, 28, 26, 35)
    assert {"仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"} <= faces(got["doc"])
    font_table = next(p for p in got["doc"].part.package.iter_parts() if p.partname.endswith("fontTable.xml")).blob
    assert "Noto Serif CJK SC".encode() in font_table and "仿宋_GB2312".encode() in font_table
    # Written again: the same number; another batch: the next number.
    again = notice(ctx.session, unit, tmp_path / "again.docx", clock=clock)
    assert again.reference == written.reference
    assert ctx.session.scalar(select(IssuedDocument.number).where(IssuedDocument.kind == DocumentKind.NOTICE)) == 1


def test_the_urge_names_the_days_overdue_the_date_to_finish_and_what_follows(ctx, world, tmp_path):
    codes = campaign(ctx, world, tmp_path)
    unit = get_unit(ctx.session, world.unit)
    clock = Clock(at(ctx, 20).now, ctx.calendar, ctx.policy)
    written = urge(ctx.session, unit, Supervision.YELLOW, tmp_path / "督办单.docx", clock=clock)
    got = read(written.path)
    table = got["tables"][0]
    assert [row[1] for row in table[1:]] == [codes[2]]
    issue = get_issue(ctx.session, codes[2])
    assert table[1][6] == str(-days_to(issue.deadline, today=clock.today, calendar=ctx.calendar))
    finish = ctx.calendar.add_workdays(clock.today, ctx.policy.urge_within_days[Supervision.YELLOW])
    assert f"请于{finish.year}年{finish.month}月{finish.day}日前整改到位" in got["all"]
    assert f"逾期满 {ctx.policy.escalation_days[Supervision.RED]} 个工作日仍未整改到位的，升级为红牌" in got["all"]
    with pytest.raises(NotFound):
        urge(ctx.session, unit, Supervision.RED, tmp_path / "x.docx", clock=clock)
    with pytest.raises(InvalidInput):
        urge(ctx.session, unit, Supervision.NORMAL, tmp_path / "x.docx", clock=clock)


def test_the_reconciliation_lists_closures_with_verifiers_and_lines_to_sign(ctx, world, tmp_path):
    codes = campaign(ctx, world, tmp_path)
    unit = get_unit(ctx.session, world.unit)
    clock = Clock(at(ctx, 30).now, ctx.calendar, ctx.policy)
    day = clock.today
    written = reconcile(ctx.session, unit, tmp_path / "对账.docx", clock=clock, since=day - timedelta(days=40),
                        until=day)
    got = read(written.path)
    verifier = get_user(ctx.session, world.verifier)
    assert got["tables"][0][1][1] == codes[0]
    assert got["tables"][0][1][5] == (verifier.display_name or verifier.name) and got["tables"][0][1][7] == "是"
    assert len(got["tables"][0]) == 2  # the submitted one is not closed yet
    assert any("经办人:" in t for t in got["texts"]) and any("单位负责人:" in t for t in got["texts"])
    with pytest.raises(InvalidInput):
        reconcile(ctx.session, unit, tmp_path / "x.docx", clock=clock, since=day, until=day - timedelta(days=1))


def test_the_report_states_the_figures_of_models_figures(ctx, world, tmp_path):
    campaign(ctx, world, tmp_path)
    county = get_county(ctx.session, world.county)
    clock = Clock(at(ctx, 20).now, ctx.calendar, ctx.policy)
    written = report(ctx.session, tmp_path / "报告.docx", clock=clock, county=county)
    got = read(written.path)
    row = next(r for r in figures(ctx.session, by="county", as_of=clock.now, calendar=ctx.calendar,
                                  policy=ctx.policy, county=county) if r.key == county.name)
    assert row.total == 5 and row.resolved_on_site == 1 and row.closed == 1 and row.overdue == 2
    table = dict(got["tables"][0][1:])
    assert table["问题数"] == str(row.total) and table["逾期"] == str(row.overdue)
    assert table["销号率"] == shown("closure_rate", row.closure_rate) == "40.0%"
    assert f"督导发现问题 {row.total} 个，其中现场解决 {row.resolved_on_site} 个" in got["all"]
    assert "「安全住房」" not in got["all"]  # found in one village only: no 举一反三 line for it
    assert "已加固墙体并验收" in got["all"]
    with pytest.raises(InvalidInput):
        report(ctx.session, tmp_path / "x.docx", clock=clock)


@pytest.mark.skipif(not (SOFFICE and PDFTOTEXT), reason="LibreOffice or poppler is not installed "
                                                       "(.ci/browser installs them)")
def test_each_document_renders_to_a4_pages_with_page_numbers(ctx, world, tmp_path):
    campaign(ctx, world, tmp_path)
    unit = get_unit(ctx.session, world.unit)
    clock = Clock(at(ctx, 20).now, ctx.calendar, ctx.policy)
    written = [notice(ctx.session, unit, tmp_path / "notice.docx", clock=clock),
               urge(ctx.session, unit, Supervision.YELLOW, tmp_path / "urge.docx", clock=clock),
               reconcile(ctx.session, unit, tmp_path / "reconcile.docx", clock=clock, since=date(2016, 8, 1),
                         until=clock.today),
               report(ctx.session, tmp_path / "report.docx", clock=clock, county=get_county(ctx.session, "理塘县"))]
    for document in written:
        printed = render(document.path, tmp_path)
        assert printed["pages"] >= 1 and all("A4" in s and "portrait" not in s for s in printed["sizes"])
        text = subprocess.run([PDFTOTEXT, "-layout", str(printed["pdf"]), "-"], capture_output=True,
                              text=True).stdout
        flat = "".join(text.split())
        assert document.reference in flat and "—1—" in flat, text[:500]
