"""The 整改台账 workbook: one sheet per county, one row per problem, plus the summary sheet
with the same figures as `rectify report`. Written in openpyxl's write-only mode, streaming
the rows from the database, so a county of 50,000 problems stays fast and small."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from rectify.flows.reports.cells import for_paper, text_cell
from rectify.flows.reports.columns import COLUMNS, RATES
from rectify.models.calendar import WorkCalendar, local_date, moment_text
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Severity, Status
from rectify.models.figures import figures
from rectify.models.issues import Issue, IssueEvent
from rectify.models.org import Unit, User
from rectify.models.overlays import light_of
from rectify.models.places import County, Household, Township, Village, mask_name
from rectify.models.policy import Policy

HEADERS = [
    "序号",
    "问题编号",
    "县(市)",
    "乡(镇)",
    "村",
    "户",
    "检查项目",
    "问题描述",
    "严重程度",
    "责任单位",
    "整改措施",
    "原整改时限",
    "现整改时限",
    "整改进展",
    "状态",
    "灯",
    "销号时间",
    "核验人",
]
WIDTHS = [6, 15, 9, 10, 10, 8, 14, 36, 8, 20, 30, 11, 11, 30, 8, 5, 17, 10]
LIGHTS = {"红": PatternFill("solid", fgColor="F4B6B6"), "黄": PatternFill("solid", fgColor="FFE699"),
          "绿": PatternFill("solid", fgColor="C6EFCE")}
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass
class LedgerResult:
    path: Path
    counties: dict[str, int]  # rows per county sheet


def write_ledger(session: Session, path: Path, *, now: datetime, calendar: WorkCalendar, policy: Policy,
                 county: County | None = None) -> LedgerResult:
    counties = [county] if county else list(session.scalars(select(County).order_by(County.sort_order)))
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("汇总")
    _summary(session, summary, now=now, calendar=calendar, policy=policy, county=county)
    written: dict[str, int] = {}
    for place in counties:
        sheet = workbook.create_sheet(place.name)
        written[place.name] = _county_sheet(session, sheet, place, now=now, calendar=calendar, policy=policy)
    workbook.save(path)
    return LedgerResult(path, written)


def _setup(sheet: Worksheet, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[_letter(index)].width = width
    sheet.freeze_panes = "C3"
    for_paper(sheet, title_rows="1:2")


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _title(sheet: Worksheet, text: str) -> None:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = Font(bold=True, size=13)
    sheet.append([cell])


def _header(sheet: Worksheet, headers: list[str]) -> None:
    cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = BOLD
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cells.append(cell)
    sheet.append(cells)


def _summary(session: Session, sheet: Worksheet, *, now: datetime, calendar: WorkCalendar, policy: Policy, county):
    rows = figures(session, by="county", as_of=now, calendar=calendar, policy=policy, county=county)
    _setup(sheet, [12] + [10] * (len(COLUMNS) - 1))
    sheet.freeze_panes = "B3"
    _title(sheet, f"整改台账汇总(截至 {moment_text(now)};第 1 名最好)")
    _header(sheet, [label for _, label in COLUMNS])
    for row in rows:
        values = row.as_dict()
        cells = []
        for key, _ in COLUMNS:
            value = values[key]
            cell = text_cell(sheet, "—" if value is None else value)
            if key in RATES and value is not None:
                cell.number_format = "0.0%"
            cells.append(cell)
        sheet.append(cells)
    sheet.auto_filter.ref = f"A2:{_letter(len(COLUMNS))}{len(rows) + 2}"


def _county_sheet(session: Session, sheet: Worksheet, county: County, *, now: datetime, calendar: WorkCalendar,
                  policy: Policy) -> int:
    today = local_date(now)
    progress_seq = (select(IssueEvent.issue_id, func.max(IssueEvent.seq).label("seq"))
                    .where(IssueEvent.action == "progress").group_by(IssueEvent.issue_id).subquery())
    progress = aliased(IssueEvent)
    verify_seq = (select(IssueEvent.issue_id, func.max(IssueEvent.seq).label("seq"))
                  .where(IssueEvent.action == "verify").group_by(IssueEvent.issue_id).subquery())
    verify = aliased(IssueEvent)
    verifier = aliased(User)
    query = (
        select(Issue.code, Township.name, Village.name, Household.head_name, CheckItem.title, Issue.description,
               Issue.severity, Unit.name, Issue.measures, Issue.original_deadline, Issue.deadline, progress.note,
               Issue.status, Issue.closed_at, verifier.name)
        .join(CheckItem, Issue.check_item_id == CheckItem.id)
        .outerjoin(Township, Issue.township_id == Township.id).outerjoin(Village, Issue.village_id == Village.id)
        .outerjoin(Household, Issue.household_id == Household.id).outerjoin(Unit, Issue.unit_id == Unit.id)
        .outerjoin(progress_seq, progress_seq.c.issue_id == Issue.id)
        .outerjoin(progress, and_(progress.issue_id == Issue.id, progress.seq == progress_seq.c.seq))
        .outerjoin(verify_seq, verify_seq.c.issue_id == Issue.id)
        .outerjoin(verify, and_(verify.issue_id == Issue.id, verify.seq == verify_seq.c.seq))
        .outerjoin(verifier, verify.actor_id == verifier.id)
        .where(Issue.county_id == county.id, Issue.status != Status.VOID)
        .order_by(Issue.id)
    )
    _setup(sheet, WIDTHS)
    _title(sheet, f"{county.name} 督查发现问题整改台账(截至 {moment_text(now)},各问题的当前状态)")
    _header(sheet, HEADERS)
    first, last = session.execute(select(func.min(Issue.deadline), func.max(Issue.deadline))
                                  .where(Issue.county_id == county.id)).one()
    between = calendar.between_fn(min(first or today, today), max(last or today, today))
    count = 0
    for number, row in enumerate(session.execute(query.execution_options(yield_per=2000)), start=1):
        (code, township, village, head, item, description, severity, unit, measures, original, deadline, note,
         status, closed_at, checked_by) = row
        shown_light = light_of(status, deadline, today=today, days_between=between, policy=policy)
        light = shown_light.label if shown_light else ""
        values = [number, code, county.name, township, village, mask_name(head), item, description,
                  severity.label if isinstance(severity, Severity) else severity, unit, measures, original, deadline,
                  note, status.label, light, *_closure(status, closed_at, checked_by)]
        cells = []
        for index, value in enumerate(values):
            cell = text_cell(sheet, value)
            if index in (7, 10, 13):
                cell.alignment = WRAP
            if index in (11, 12) and value is not None:
                cell.number_format = "yyyy-mm-dd"
            if index == 15 and light:
                cell.fill = LIGHTS[light]
            cells.append(cell)
        sheet.append(cells)
        count = number
    sheet.auto_filter.ref = f"A2:{_letter(len(HEADERS))}{count + 2}"
    return count


def _closure(status: Status, closed_at, checked_by) -> tuple:
    """销号时间 and 核验人 of the present closure: a reopened problem's earlier closure belongs to
    its history (the dossier), not to the ledger's row of what holds now."""
    if status is not Status.CLOSED or closed_at is None:
        return None, None
    return local_date(closed_at).isoformat(), checked_by
