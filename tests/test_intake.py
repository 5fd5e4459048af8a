"""The field workbook round trip: plan, fill, import; every kind of bad input; re-imports."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from rectify.flows.clock import parse_instant
from rectify.flows.demo_findings import fill_plan
from rectify.flows.intake.columns import COLUMNS, ERROR_HEADER
from rectify.flows.intake.importer import import_findings
from rectify.flows.intake.plan import get_or_create_inspection, make_plan
from rectify.models.deliveries import Delivery
from rectify.models.enums import MessageKind, Result, Status
from rectify.models.errors import ImportRejected, RegistrarUnknown
from rectify.models.inspections import Finding, Inspection, InspectionSample
from rectify.models.issues import Issue
from rectify.models.lookup import get_user
from rectify.models.places import County, Township, Village

COUNTY = "色达县"
LEADER = "督导组长14"
INSPECTOR = "督导员14"
HEADERS = [c.header for c in COLUMNS]


def write_xlsx(path: Path, rows: list[dict], headers: list[str] = HEADERS, title: str = "户") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    workbook.save(path)
    return path


def counts(session) -> tuple[int, int, int]:
    return (session.scalar(select(func.count()).select_from(Issue)),
            session.scalar(select(func.count()).select_from(Finding)),
            session.scalar(select(func.count()).select_from(Delivery)))


@pytest.fixture()
def place(session):
    """A 2016 exit village of the county with two of its households."""
    village = session.scalars(
        select(Village).join(Township).join(County)
        .where(County.name == COUNTY, Village.planned_exit_year == 2016).order_by(Village.id)
    ).first()
    households = sorted(village.households, key=lambda h: h.id)[:2]
    return village, households


@pytest.fixture()
def inspection(ctx):
    found, _ = get_or_create_inspection(
        ctx, "色达县专项督导", county=COUNTY, campaign="测试批次", leader=LEADER, team=None
    )
    return found


def row(village, household=None, **values) -> dict:
    base = {"县(市)": COUNTY, "乡(镇)": village.township.name, "村": village.name, "检查人": INSPECTOR,
            "检查日期": "2016年8月20日", "结果": "符合", "检查项目": "H06" if household else "V10"}
    if household is not None:
        base["户编号"] = household.registry_no
    base.update(values)
    return base


def run(ctx, path, inspection, **options):
    return import_findings(ctx, path=path, inspection=inspection, importer=get_user(ctx.session, LEADER), **options)


# --- sampling plans -----------------------------------------------------------------------


def test_plan_prefers_uncovered_exit_villages_and_never_repeats_a_household(ctx, tmp_path):
    first = make_plan(ctx, inspection="第一批", county=COUNTY, villages=10, households=10, seed=7,
                      out=tmp_path / "a.xlsx", campaign="2016年督导")
    second = make_plan(ctx, inspection="第二批", county=COUNTY, villages=10, households=10, seed=7,
                       out=tmp_path / "b.xlsx", campaign="2016年督导")
    a, b = first.samples[0], second.samples[0]
    assert len(a.villages) == 10 and a.household_count > 0
    assert all(v.planned_exit_year == 2016 for v in a.villages)
    exit_villages = {v.id for v in ctx.session.scalars(
        select(Village).join(Township).join(County).where(County.name == COUNTY, Village.planned_exit_year == 2016))}
    left = exit_villages - {v.id for v in a.villages}
    # The second inspection takes every exit village the first one left before any repeat.
    assert left and len({v.id for v in b.villages} & left) == min(10, len(left))
    households_a = {h.id for hs in a.households.values() for h in hs}
    households_b = {h.id for hs in b.households.values() for h in hs}
    assert households_a and households_b and not households_a & households_b


def test_the_same_seed_draws_the_same_sample(ctx, tmp_path):
    one = make_plan(ctx, inspection="甲", county=COUNTY, villages=5, households=3, seed=42, out=tmp_path / "1.xlsx",
                    campaign="批次甲")
    two = make_plan(ctx, inspection="乙", county=COUNTY, villages=5, households=3, seed=42, out=tmp_path / "2.xlsx",
                    campaign="批次乙")
    other = make_plan(ctx, inspection="丙", county=COUNTY, villages=5, households=3, seed=43, out=tmp_path / "3.xlsx",
                      campaign="批次丙")
    ids = lambda p: [v.id for v in p.samples[0].villages]  # noqa: E731
    assert ids(one) == ids(two)
    assert ids(one) != ids(other)
    again = make_plan(ctx, inspection="甲", county=COUNTY, villages=5, households=3, seed=99,
                      out=tmp_path / "1b.xlsx")
    assert again.samples[0].reused and ids(again) == ids(one)


def test_plan_workbook_has_a_sheet_per_level_with_lists_and_frozen_header(ctx, tmp_path):
    result = make_plan(ctx, inspection="表格检查", county=COUNTY, villages=2, households=3, seed=1,
                       out=tmp_path / "plan.xlsx")
    workbook = load_workbook(tmp_path / "plan.xlsx")
    assert workbook.sheetnames == ["县", "村", "户", "填写说明"]
    assert "整改时限" in [row[0] for row in workbook["填写说明"].iter_rows(values_only=True)]
    households = workbook["户"]
    # On paper: A4 landscape, one page wide, the header on every page, the standards wrapped.
    assert households.page_setup.orientation == "landscape" and households.page_setup.fitToWidth == 1
    assert households.print_title_rows == "$1:$1" and households.sheet_properties.pageSetUpPr.fitToPage
    assert households.cell(row=2, column=11).alignment.wrap_text  # 检查标准
    headers = [c.value for c in households[1]]
    assert headers[:9] == ["问题编号", "督导组", "检查日期", "检查人", "县(市)", "乡(镇)", "村", "户编号", "户主姓名"]
    assert "结果" in headers and "严重程度" in headers and "组长" in headers
    assert households.freeze_panes == "A2"
    assert households.max_row - 1 == result.rows["户"] == 6 * 12
    formulas = {v.formula1 for v in households.data_validations.dataValidation}
    assert '"符合,不符合,典型经验"' in formulas and '"一般,较重,严重"' in formulas
    first = {h: c.value for h, c in zip(headers, households[2], strict=True)}
    assert first["县(市)"] == COUNTY and first["户编号"] and first["结果"] is None
    assert households.column_dimensions["L"].width >= 10


# --- the round trip ------------------------------------------------------------------------


def test_a_filled_plan_imports_without_edits_and_a_reimport_creates_nothing(ctx, tmp_path):
    plan = make_plan(ctx, inspection="往返", county=COUNTY, villages=3, households=4, seed=3,
                     out=tmp_path / "plan.xlsx", leader=LEADER)
    filled = tmp_path / "filled.xlsx"
    made = fill_plan(tmp_path / "plan.xlsx", filled, seed=5, leader=LEADER, checked_on=date(2016, 8, 20),
                     inspector=INSPECTOR, fail_share=0.2)
    before = counts(ctx.session)
    report = import_findings(ctx, path=filled, inspection=plan.inspection, importer=None)
    assert report.errors == [] and report.written
    assert len(report.created) == made["不符合"] and report.good_practice == made["典型经验"]
    assert report.passed == made["符合"]
    issues = ctx.session.scalars(select(Issue).where(Issue.code.in_(report.created))).all()
    statuses = {i.status for i in issues}
    assert statuses <= {Status.ASSIGNED, Status.RESOLVED_ON_SITE}
    assert sum(i.status is Status.RESOLVED_ON_SITE for i in issues) == made["现场解决"]
    assert all(i.inspection_id == plan.inspection.id and i.external_ref for i in issues)
    assert all(i.deadline and i.unit for i in issues if i.status is Status.ASSIGNED)
    units = {i.unit_id for i in issues if i.status is Status.ASSIGNED}
    notices = ctx.session.scalars(select(Delivery).where(Delivery.kind == MessageKind.ASSIGNMENT)).all()
    assert {n.unit_id for n in notices} == units and report.notices == len(units)
    assert counts(ctx.session)[1] - before[1] == sum(made[k] for k in ("符合", "不符合", "典型经验"))

    again = import_findings(ctx, path=filled, inspection=plan.inspection, importer=None)
    assert again.created == [] and again.unchanged == report.rows_read and again.notices == 0
    assert counts(ctx.session)[:2] == (before[0] + len(report.created), before[1] + report.rows_read)


def test_rows_without_ref_are_keyed_by_content(ctx, tmp_path, place, inspection):
    village, (h1, h2) = place
    rows = [row(village, h1, 结果="不符合", 问题描述="墙体开裂", 严重程度="严重"), row(village, h2)]
    path = write_xlsx(tmp_path / "f.xlsx", rows)
    first = run(ctx, path, inspection)
    assert len(first.created) == 1 and first.passed == 1
    # Spacing and full-width forms do not make a different row.
    rows[0]["问题描述"] = " 墙体开裂 "
    rows[0]["县(市)"] = "色达县 "
    second = run(ctx, write_xlsx(tmp_path / "g.xlsx", rows), inspection)
    assert second.created == [] and second.unchanged == 2


def test_a_changed_row_is_a_conflict_not_an_overwrite(ctx, tmp_path, place, inspection):
    village, (h1, _) = place
    rows = [row(village, h1, 问题编号="A-1", 结果="不符合", 问题描述="墙体开裂", 严重程度="严重")]
    first = run(ctx, write_xlsx(tmp_path / "f.xlsx", rows), inspection)
    code = first.created[0]
    rows[0]["问题描述"] = "墙体开裂,屋顶漏雨"
    before = counts(ctx.session)
    second = run(ctx, write_xlsx(tmp_path / "g.xlsx", rows), inspection)
    assert not second.written and counts(ctx.session) == before
    assert "冲突" in second.errors[0].message and second.errors[0].row == 2
    issue = ctx.session.scalars(select(Issue).where(Issue.code == code)).one()
    assert issue.description == "墙体开裂"


def test_problem_states_follow_the_row(ctx, tmp_path, place, inspection):
    village, (h1, h2) = place
    village.assisting_unit = None
    county_unit_less = row(village, h2, 结果="不符合", 问题描述="存粮不足", 严重程度="一般", 检查项目="不愁吃")
    rows = [
        row(village, h1, 结果="不符合", 问题描述="危房", 严重程度="严重", 是否现场解决="√", 现场解决情况="当场搬离",
            组长=LEADER),
        row(village, h1, 结果="不符合", 问题描述="水管冻裂", 严重程度="一般", 检查项目="安全饮水",
            责任单位="色达县水务局", 整改时限="10个工作日"),
        county_unit_less,
        row(village, 结果="典型经验", 问题描述="作战图图文并茂"),
    ]
    report = run(ctx, write_xlsx(tmp_path / "f.xlsx", rows), inspection)
    assert report.errors == []
    by_item = {i.check_item.title: i for i in ctx.session.scalars(select(Issue).where(Issue.code.in_(report.created)))}
    assert by_item["安全住房"].status is Status.RESOLVED_ON_SITE and by_item["安全住房"].cosigned_by.name == LEADER
    water = by_item["安全饮水"]
    assert water.status is Status.ASSIGNED and water.unit.name == "色达县水务局"
    assert water.deadline == ctx.calendar.add_workdays(ctx.today, 10)
    # No 帮扶单位 on the village: the county government is responsible by default.
    assert by_item["不愁吃"].unit.name == COUNTY
    good = ctx.session.scalars(select(Finding).where(Finding.result == Result.GOOD,
                                                     Finding.inspection_id == inspection.id)).one()
    assert good.note == "作战图图文并茂" and good.issue_id is None


# --- bad input: clear errors, nothing written ----------------------------------------------


def test_every_bad_row_is_named_with_row_column_value_and_nothing_is_written(ctx, tmp_path, place, inspection):
    village, (h1, h2) = place
    rows = [
        row(village, h1),
        row(village, h1, **{"县(市)": "理塘"}),
        row(village, h1, 检查项目="安全住宅"),
        row(village, h1, 结果="不符合", 问题描述="缺衣被", 严重程度="很严重", 检查项目="不愁穿"),
        row(village, h2, 结果="不符合", 问题描述="漏水", 严重程度="一般", 检查项目="安全饮水", 责任单位="色达县水利局"),
        row(
            village,
            h2,
            结果="不符合",
            问题描述="停电",
            严重程度="一般",
            检查项目="生活用电",
            是否现场解决="是",
            现场解决情况="已修复",
        ),
        row(village, h2, 检查日期="下周一", 检查项目="广播电视"),
        row(village, h2, 结果="不符合", 严重程度="一般", 检查项目="明白卡"),
        row(
            village,
            h2,
            结果="不符合",
            问题描述="未落实",
            严重程度="一般",
            检查项目="帮扶责任落实",
            整改时限="2016-08-01",
        ),
    ]
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    before = counts(ctx.session)
    report = run(ctx, path, inspection)
    assert not report.written and counts(ctx.session) == before
    by_row = {e.row: e for e in report.errors}
    assert set(by_row) == {3, 4, 5, 6, 7, 8, 9, 10}
    assert by_row[3].letter == "E" and by_row[3].value == "理塘" and "理塘县" in by_row[3].message
    assert "安全住房" in by_row[4].message and by_row[4].column == "item"
    assert by_row[5].column == "severity" and "一般 / 较重 / 严重" in by_row[5].message
    assert "色达县水务局" in by_row[6].message and by_row[6].column == "unit"
    assert by_row[7].column == "leader"
    assert by_row[8].column == "checked_on"
    assert by_row[9].column == "description"
    assert by_row[10].column == "deadline" and "晚于" in by_row[10].message
    assert "工作表「户」 第 3 行 E列「县(市)」 值「理塘」" in str(by_row[3])

    marked = load_workbook(report.errors_file)["户"]
    headers = [c.value for c in marked[1]]
    column = headers.index(ERROR_HEADER) + 1
    assert marked.cell(row=2, column=column).value is None
    assert "县(市)" in marked.cell(row=3, column=column).value
    assert "严重程度" in marked.cell(row=5, column=column).value
    # Streamed, yet still a sheet to correct in: the lists, the frozen header, a wide error column.
    lists = {str(v.sqref).split(":")[0][0] for v in marked.data_validations.dataValidation}
    assert {chr(ord("A") + HEADERS.index(h)) for h in ("结果", "严重程度", "是否现场解决")} <= lists
    assert marked.freeze_panes == "A2" and marked.column_dimensions[marked.cell(row=1, column=column).column_letter
                                                                    ].width == 60


def test_a_household_outside_the_sampled_village_is_refused(ctx, tmp_path):
    plan = make_plan(ctx, inspection="抽样核对", county=COUNTY, villages=2, households=2, seed=11,
                     out=tmp_path / "p.xlsx", leader=LEADER)
    sample = plan.samples[0]
    v1, v2 = sample.villages
    h_of_v2 = sample.households[v2.id][0]
    not_sampled = next(h for h in v1.households if h not in sample.households[v1.id])
    rows = [row(v1, h_of_v2), row(v1, not_sampled)]
    report = run(ctx, write_xlsx(tmp_path / "f.xlsx", rows), plan.inspection)
    assert [e.row for e in report.errors] == [2, 3]
    assert f"不属于{v1.name}" in report.errors[0].message
    assert "抽样户名单" in report.errors[1].message
    assert not report.written


def test_file_level_problems_get_a_clear_message(ctx, tmp_path, inspection):
    fake = tmp_path / "notes.xlsx"
    fake.write_text("这不是工作簿")
    with pytest.raises(ImportRejected, match="notes.xlsx 不是 .xlsx 工作簿:内容是文本"):
        run(ctx, fake, inspection)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ImportRejected, match="另存为 .xlsx"):
        run(ctx, old, inspection)
    with pytest.raises(ImportRejected, match="找不到文件"):
        run(ctx, tmp_path / "missing.xlsx", inspection)

    empty = tmp_path / "empty.xlsx"
    Workbook().save(empty)
    report = run(ctx, empty, inspection)
    assert not report.written and "没有任何数据" in report.errors[0].message

    no_result = write_xlsx(tmp_path / "cols.xlsx", [{"县(市)": COUNTY, "检查项目": "C01"}],
                           headers=["问题编号", "县(市)", "检查项目", "问题描述"])
    report = run(ctx, no_result, inspection)
    assert report.errors[0].row == 1 and "缺少必需的列:结果" in report.errors[0].message


def test_skip_invalid_writes_good_rows_and_a_rejects_file(ctx, tmp_path, place, inspection):
    village, (h1, h2) = place
    rows = [row(village, h1), row(village, h2, 结果="也许"), row(village, h2, 检查项目="H07")]
    path = write_xlsx(tmp_path / "f.xlsx", rows)
    dry = run(ctx, path, inspection, skip_invalid=True, dry_run=True)
    assert not dry.written
    before = counts(ctx.session)
    report = run(ctx, path, inspection, skip_invalid=True)
    assert report.written and report.passed == 2 and counts(ctx.session)[1] == before[1] + 2
    rejects = load_workbook(report.errors_file)["户"]
    assert rejects.max_row == 2 and rejects.cell(row=2, column=len(HEADERS) + 1).value.startswith("结果")
    # The corrected rejects file imports on its own.
    rejects.cell(row=2, column=HEADERS.index("结果") + 1, value="符合")
    rejects.parent.save(tmp_path / "fixed.xlsx")
    fixed = run(ctx, tmp_path / "fixed.xlsx", inspection)
    assert fixed.errors == [] and fixed.passed == 1


def test_dry_run_validates_only(ctx, tmp_path, place, inspection):
    village, (h1, _) = place
    before = counts(ctx.session)
    report = run(ctx, write_xlsx(tmp_path / "f.xlsx", [row(village, h1, 结果="不符合", 问题描述="x",
                                                            严重程度="一般")]), inspection, dry_run=True)
    assert report.errors == [] and not report.written and counts(ctx.session) == before


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_the_encodings_excel_writes(ctx, tmp_path, place, inspection, encoding):
    village, (h1, h2) = place
    path = tmp_path / "f.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["县(市)", "乡(镇)", "村", "户编号", "检查项目", "结果", "问题描述", "严重程度", "整改时限"])
        writer.writerow([COUNTY, village.township.name, village.name, h1.registry_no, "H06", "不符合", "危房",
                         "严重", "２０１６年９月３０日"])
        writer.writerow([f" {COUNTY}", village.township.name, village.name, h2.registry_no, "h06", "√", "", "", ""])
    report = run(ctx, path, inspection)
    assert report.errors == [] and len(report.created) == 1 and report.passed == 1
    issue = ctx.session.scalars(select(Issue).where(Issue.code == report.created[0])).one()
    assert issue.deadline == date(2016, 9, 30) and issue.household_id == h1.id


def test_text_a_workbook_cannot_hold_is_refused_with_its_row_and_column(ctx, tmp_path, place, inspection):
    """The text rule of every edge (models/text.py), in the import's own words: nothing written."""
    village, (h1, h2) = place
    path = tmp_path / "f.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["县(市)", "乡(镇)", "村", "户编号", "检查项目", "结果", "问题描述", "严重程度"])
        writer.writerow([COUNTY, village.township.name, village.name, h1.registry_no, "H06", "不符合", "危\x00房",
                         "严重"])
        writer.writerow([COUNTY, village.township.name, village.name, h2.registry_no, "H07", "不符合", "长" * 2001,
                         "一般"])
    before = counts(ctx.session)
    report = run(ctx, path, inspection)
    assert not report.written and counts(ctx.session) == before
    by_row = {e.row: e for e in report.errors}
    assert by_row[2].column == "description" and "U+0000" in by_row[2].message
    assert by_row[3].column == "description" and "最多 2000" in by_row[3].message
    assert "第 2 行" in str(by_row[2]) and "问题描述" in str(by_row[2])


def test_a_unit_of_another_county_is_refused_for_the_row(ctx, tmp_path, place, inspection):
    village, (h1, _) = place
    path = write_xlsx(tmp_path / "f.xlsx", [row(village, h1, 结果="不符合", 问题描述="漏水", 严重程度="一般",
                                                检查项目="安全饮水", 责任单位="康定市")])
    before = counts(ctx.session)
    report = run(ctx, path, inspection)
    assert not report.written and counts(ctx.session) == before
    [error] = report.errors
    assert error.column == "unit" and "不能承办色达县的问题" in error.message and error.value == "康定市"


def test_csv_errors_are_marked_in_a_csv_copy(ctx, tmp_path, place, inspection):
    village, (h1, _) = place
    path = tmp_path / "f.csv"
    path.write_text(f"县(市),村,户编号,检查项目,结果\n{COUNTY},{village.name},{h1.registry_no},H06,好\n",
                    encoding="gb18030")
    report = run(ctx, path, inspection)
    marked = Path(report.errors_file).read_text(encoding="utf-8-sig").splitlines()
    assert marked[0].endswith(ERROR_HEADER) and "结果" in marked[1].split(",")[-1]


def test_duplicate_refs_in_one_file_are_refused(ctx, tmp_path, place, inspection):
    village, (h1, h2) = place
    rows = [row(village, h1, 问题编号="7"), row(village, h2, 问题编号="7")]
    report = run(ctx, write_xlsx(tmp_path / "f.xlsx", rows), inspection)
    assert report.errors[0].row == 3 and "重复" in report.errors[0].message and "第 2 行" in report.errors[0].message


def test_unknown_inspector_without_importer_is_an_error(ctx, tmp_path, place):
    village, (h1, _) = place
    bare = Inspection(name="无组长", campaign="x", start_date=date(2016, 8, 20))
    ctx.session.add(bare)
    ctx.session.flush()
    rows = [row(village, h1, 检查人="路人甲"), row(village, h1, 检查人="路人乙", 问题描述="另一个问题")]
    report = import_findings(ctx, path=write_xlsx(tmp_path / "f.xlsx", rows), inspection=bare, importer=None)
    assert isinstance(report.fatal_error, RegistrarUnknown) and "无组长" in report.fatal
    assert not report.written and not [e for e in report.errors if e.column == "inspector"]


def test_sample_rows_are_stored(ctx, tmp_path):
    plan = make_plan(ctx, inspection="存样", county=COUNTY, villages=3, households=2, seed=1, out=tmp_path / "p.xlsx")
    stored = ctx.session.scalar(select(func.count()).select_from(InspectionSample)
                                .where(InspectionSample.inspection_id == plan.inspection.id))
    assert stored == 3 + plan.samples[0].household_count


def test_two_imports_of_one_file_at_once_write_it_once(fresh_db, tmp_path):
    import threading

    from rectify.flows.context import unit_of_work
    from rectify.flows.intake.flow import _import_task
    from rectify.models.errors import Conflict

    with unit_of_work(parse_instant("2016-08-19")) as ctx:
        make_plan(ctx, inspection="并发导入", county=COUNTY, villages=3, households=3, seed=4,
                  out=tmp_path / "plan.xlsx", leader=LEADER)
    made = fill_plan(tmp_path / "plan.xlsx", tmp_path / "filled.xlsx", seed=8, leader=LEADER,
                     checked_on=date(2016, 8, 20), inspector=INSPECTOR, fail_share=0.3)
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def one() -> None:
        start.wait()
        try:
            outcomes.append(_import_task.fn(tmp_path / "filled.xlsx", "并发导入", parse_instant("2016-08-22"),
                                            None, False, False, None))
        except Conflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    reports = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(outcomes) == 2 and reports
    assert sum(len(r.created) for r in reports) == made["不符合"]
    with unit_of_work(parse_instant("2016-08-22")) as ctx:
        inspection = ctx.session.scalars(select(Inspection).where(Inspection.name == "并发导入")).one()
        issues = ctx.session.scalar(select(func.count()).select_from(Issue).where(Issue.inspection_id == inspection.id))
        findings = ctx.session.scalar(select(func.count()).select_from(Finding)
                                      .where(Finding.inspection_id == inspection.id))
    assert issues == made["不符合"] and findings == sum(made[k] for k in ("符合", "不符合", "典型经验"))


def test_the_feedback_report_after_an_import(ctx, tmp_path):
    from rectify.flows.reports.feedback import feedback_report

    plan = make_plan(ctx, inspection="反馈测试", county=COUNTY, villages=2, households=3, seed=6,
                     out=tmp_path / "plan.xlsx", leader=LEADER)
    made = fill_plan(tmp_path / "plan.xlsx", tmp_path / "filled.xlsx", seed=9, leader=LEADER,
                     checked_on=date(2016, 8, 20), inspector=INSPECTOR, fail_share=0.25)
    report = import_findings(ctx, path=tmp_path / "filled.xlsx", inspection=plan.inspection, importer=None)
    text = feedback_report(ctx.session, plan.inspection, now=ctx.now, calendar=ctx.calendar, policy=ctx.policy)
    checks = made["符合"] + made["不符合"] + made["典型经验"]
    assert (f"抽查贫困村 2 个、贫困户 6 户,检查项目 {checks} 项次;其中符合 {made['符合']} 项次,"
            f"发现问题 {made['不符合']} 个(现场解决 {made['现场解决']} 个),发现典型经验 {made['典型经验']} 条") in text
    issues = ctx.session.scalars(select(Issue).where(Issue.code.in_(report.created))).all()
    for unit in {i.unit.name for i in issues if i.unit}:
        assert f"| {unit} |" in text
    categories = {i.check_item.category for i in issues}
    assert all(f". {c}(" in text for c in categories)
    assert "逾期 3、7、15 个工作日" in text


# --- broken files, encodings, dates, headers, formulas (issue 16) --------------------------------


def _good_xlsx(tmp_path, place) -> Path:
    village, _ = place
    return write_xlsx(tmp_path / "good.xlsx", [row(village, 结果="不符合", 问题描述="作战图未上墙", 严重程度="一般")],
                      title="村")


@pytest.mark.parametrize(("make", "says"), [
    (lambda good, p: p.write_bytes(b""), "是空的(0 字节)"),
    (lambda good, p: p.write_text("县(市),检查项目,结果\n色达县,V10,符合\n"), "内容是文本"),
    (lambda good, p: p.write_text("<html><table><tr><td>色达县</td></tr></table></html>"), "网页或 XML"),
    (lambda good, p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)), "设置了打开密码"),
    (lambda good, p: p.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2]), "不是完整的 Excel 工作簿"),
    (lambda good, p: p.write_bytes(good.read_bytes()[:-30]), "不是完整的 Excel 工作簿"),
])
def test_a_broken_workbook_is_one_plain_reason_and_nothing_is_written(ctx, tmp_path, place, inspection, make, says):
    target = tmp_path / "findings.xlsx"
    make(_good_xlsx(tmp_path, place), target)
    before = counts(ctx.session)
    with pytest.raises(ImportRejected, match=re.escape(says)) as raised:
        run(ctx, target, inspection)
    assert "findings.xlsx" in str(raised.value) and counts(ctx.session) == before


def test_a_sheet_that_breaks_while_its_rows_are_read_names_the_sheet_and_row(ctx, tmp_path, place, inspection):
    import zipfile

    good = _good_xlsx(tmp_path, place)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"<row r=\"3\"><c r=\"A3\" t=\"s\"><v>9999</v></c></row>"
                                    b"</sheetData>")
            out.writestr(item, data)
    with pytest.raises(ImportRejected, match="已损坏:读到工作表「村」第 3 行时出错"):
        run(ctx, broken, inspection)


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-16", "\t"), ("utf-16", ","), ("utf-16-le", ",")])
def test_a_utf16_csv_as_excel_saves_unicode_text_imports(ctx, tmp_path, place, inspection, encoding, delimiter):
    village, (h1, _) = place
    path = tmp_path / "unicode.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(["县(市)", "乡(镇)", "村", "户编号", "检查项目", "结果", "问题描述", "严重程度"])
        writer.writerow([COUNTY, village.township.name, village.name, h1.registry_no, "H06", "不符合", "危房", "严重"])
    report = run(ctx, path, inspection)
    assert report.errors == [] and len(report.created) == 1


def test_a_big5_csv_is_told_its_encoding_is_the_problem(ctx, tmp_path, place, inspection):
    village, _ = place
    path = tmp_path / "big5.csv"
    path.write_bytes("縣(市),檢查項目,結果,問題描述\n色達縣,V10,不符合,作戰圖未上牆\n".encode("big5"))
    report = run(ctx, path, inspection)
    assert not report.written and len(report.errors) == 1
    message = report.errors[0].message
    assert "找不到表头行" in message and "Big5" in message and "CSV UTF-8" in message


def test_an_inspection_date_in_the_future_or_another_year_is_refused(ctx, tmp_path, place, inspection):
    village, _ = place
    rows = [row(village, 检查日期="2030-01-01"), row(village, 检查日期="2015-08-20", 检查项目="V11"),
            row(village, 检查日期="2016-08-21", 检查项目="V12")]
    report = run(ctx, write_xlsx(tmp_path / "d.xlsx", rows, title="村"), inspection)
    assert [(e.row, e.column, e.value) for e in report.errors] == [(2, "checked_on", "2030-01-01"),
                                                                    (3, "checked_on", "2015-08-20")]
    assert "晚于今天(2016-08-22)" in report.errors[0].message and "2016 年" in report.errors[1].message
    inspection.end_date = date(2016, 8, 20)
    report = run(ctx, write_xlsx(tmp_path / "e.xlsx", rows[2:], title="村"), inspection)
    assert "晚于督导「色达县专项督导」的结束日期 2016-08-20" in report.errors[0].message and not report.written


def test_a_column_named_twice_is_refused_naming_both(ctx, tmp_path, place, inspection):
    village, _ = place
    headers = [*HEADERS, "问题描述"]
    path = write_xlsx(tmp_path / "twice.xlsx", [row(village, 结果="不符合", 问题描述="作战图未上墙", 严重程度="一般")],
                      headers=headers, title="村")
    report = run(ctx, path, inspection)
    (error,) = report.errors
    letters = [chr(ord("A") + HEADERS.index("问题描述")), chr(ord("A") + len(HEADERS))]
    assert error.row == 1 and f"{letters[0]}列、{letters[1]}列都是「问题描述」" in error.message
    assert not report.written and counts(ctx.session)[0] == 0


def test_a_formula_without_its_computed_value_is_named_as_a_formula(ctx, tmp_path, place, inspection):
    village, _ = place
    rows = [row(village, 结果="=IF(1,\"不符合\",\"符合\")", 问题描述="作战图未上墙", 严重程度="一般"),
            row(village, 检查项目="V11", 结果="不符合", 问题描述="无台账", 严重程度="一般", 整改时限="=TODAY()+15")]
    report = run(ctx, write_xlsx(tmp_path / "formulas.xlsx", rows, title="村"), inspection)
    found = [(e.row, e.column, e.value) for e in report.errors]
    assert found == [(2, "result", '=IF(1,"不符合","符合")'), (3, "deadline", "=TODAY()+15")]
    assert all("是公式,但文件中没有它的计算结果" in e.message and "粘贴为数值" in e.message for e in report.errors)
    assert not report.written
