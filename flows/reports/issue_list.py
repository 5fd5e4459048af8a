"""The problem list as the pages filter it, as a workbook (`/issues.xlsx`): a header that stays
and filters, widths that fit, long text wrapped, printable on A4 landscape."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from rectify.flows.reports.cells import for_paper, text_cell

# (header, width, wrapped)
COLUMNS = [("问题编号", 15, False), ("状态", 8, False), ("县(市)", 9, False), ("乡(镇)", 10, False), ("村", 10, False),
           ("户(建档立卡号)", 17, False), ("检查项目", 16, True), ("类别", 10, False), ("问题描述", 40, True),
           ("责任单位", 18, True), ("整改时限", 11, False), ("灯", 5, False), ("督办级别", 9, False)]
HOUSEHOLD = "户(建档立卡号)"
WRAP = Alignment(wrap_text=True, vertical="top")


def headers(*, households: bool) -> list[str]:
    return [h for h, _, _ in COLUMNS if households or h != HOUSEHOLD]


def issue_list_workbook(rows: Iterable[Sequence[object]], *, households: bool) -> bytes:
    """`rows`: the values in COLUMNS' order (without the household when `households` is False)."""
    columns = [c for c in COLUMNS if households or c[0] != HOUSEHOLD]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("问题清单")
    for index, (_, width, _) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"
    for_paper(sheet, title_rows="1:1")
    head = []
    for text, _, _ in columns:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
        head.append(cell)
    sheet.append(head)
    count = 0
    for values in rows:
        cells = [text_cell(sheet, value) for value in values]
        for cell, (_, _, wrapped) in zip(cells, columns, strict=True):
            if wrapped:
                cell.alignment = WRAP
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
