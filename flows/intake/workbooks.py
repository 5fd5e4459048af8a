"""Workbooks rectify writes for the field: the sampling plan, the blank template, and copies
of a rejected file with each row's errors in an added 错误说明 column."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from rectify.flows.intake.columns import (
    BY_KEY,
    COLUMNS,
    ERROR_HEADER,
    HEADER_SCAN_ROWS,
    INSTRUCTION_SHEETS,
    STANDARD_HEADER,
    column_key,
    find_header,
)
from rectify.flows.intake.source import RowError, csv_rows, decode_csv
from rectify.flows.reports.cells import for_paper, text_cell
from rectify.models.enums import Result, Severity

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ERROR_FILL = PatternFill("solid", fgColor="F8CBAD")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
WRAPPED = ("item", STANDARD_HEADER, "description", "on_site_note")

LEVEL_KEYS = {
    "县": ("ref", "team", "checked_on", "inspector", "county"),
    "村": ("ref", "team", "checked_on", "inspector", "county", "township", "village"),
    "户": ("ref", "team", "checked_on", "inspector", "county", "township", "village", "household_no",
          "household_head"),
}
TAIL_KEYS = ("result", "description", "severity", "unit", "deadline", "on_site", "on_site_note", "leader")
CHOICES = {
    "result": Result.choices(),
    "severity": Severity.choices(),
    "on_site": ["是", "否"],
}


def _headers(keys: Sequence[str]) -> list[str]:
    return [BY_KEY[k].header if k in BY_KEY else k for k in keys]


def add_sheet(workbook: Workbook, title: str, keys: Sequence[str], rows: Iterable[Sequence[object]]) -> Worksheet:
    """A sheet the field team fills: header, frozen, widths, drop-down lists on the coded columns."""
    sheet = workbook.create_sheet(title)
    sheet.append(_headers(keys))
    count = 0
    for row in rows:
        sheet.append(list(row))
        count += 1
    for index, key in enumerate(keys, start=1):
        letter = get_column_letter(index)
        width = BY_KEY[key].width if key in BY_KEY else 40
        sheet.column_dimensions[letter].width = width
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        if key in CHOICES:
            sheet.add_data_validation(_choices(key, letter, count))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{count + 1}"
    for_paper(sheet, title_rows="1:1")
    for index, key in enumerate(keys, start=1):  # long text wraps on paper instead of running off
        if key in WRAPPED:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.alignment = WRAP_TOP
    return sheet


def plan_keys(level: str) -> list[str]:
    return [*LEVEL_KEYS[level], "item", STANDARD_HEADER, *TAIL_KEYS]


def write_template(path: Path) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    add_sheet(workbook, "问题清单", [c.key for c in COLUMNS], [])
    add_instructions(workbook)
    workbook.save(path)


def add_instructions(workbook: Workbook) -> None:
    """The 填写说明 sheet: every column, whether it is required, what goes in it (skipped on import)."""
    notes = workbook.create_sheet(INSTRUCTION_SHEETS[0])
    notes.append(["列名", "必填", "说明"])
    for column in COLUMNS:
        notes.append([column.header, "是" if column.required else "", _EXPLAIN[column.key]])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["C"].width = 90
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for_paper(notes, title_rows="1:1")


_EXPLAIN = {
    "ref": "督导组自己的编号(可空);同一督导内唯一,重复导入时据此识别同一行",
    "team": "督导组名称",
    "checked_on": "检查日期,如 2016-08-20、2016/8/20、2016年8月20日、8月20日",
    "inspector": "检查人姓名(系统用户时记为登记人)",
    "county": "县(市)名称",
    "township": "乡(镇)名称;村名在县内唯一时可空",
    "village": "村名;村级、户级项目必填",
    "household_no": "建档立卡编号;户级项目填此项或户主姓名",
    "household_head": "户主姓名(户内同名时须填户编号)",
    "item": "检查项目编号(如 H05)或名称(如 安全住房)",
    "result": "符合 / 不符合 / 典型经验",
    "description": "不符合:问题描述;典型经验:经验做法",
    "severity": "一般 / 较重 / 严重(不符合时必填,决定默认整改时限)",
    "unit": "责任单位;可空,默认为村的帮扶单位,县级项目为县(市)政府",
    "deadline": "整改时限:日期,或工作日数(如 15);可空,按严重程度的默认工作日",
    "on_site": "是否现场解决:是 / 否(也可 √ ×)",
    "on_site_note": "现场解决情况(现场解决时必填)",
    "leader": "督导组组长姓名(现场解决时必填,作为会签)",
}


def write_marked_copy(path: Path, by_row: dict[tuple[str, int], list[RowError]], out: Path, *,
                      only_rejected: bool) -> None:
    """The file again with a 错误说明 column: all rows, or only the rejected ones."""
    if path.suffix.lower() == ".csv":
        _marked_csv(path, by_row, out, only_rejected=only_rejected)
    else:
        _marked_xlsx(path, by_row, out, only_rejected=only_rejected)


def _explain(errors: list[RowError]) -> str:
    parts = []
    for e in errors:
        where = f"{BY_KEY[e.column].header}:" if e.column else ""
        parts.append(where + e.message)
    return ";".join(parts)


def _marked_xlsx(path: Path, by_row, out: Path, *, only_rejected: bool) -> None:
    """Streamed both ways (read-only in, write-only out): a 200,000-row file costs what reading it
    does, never the whole workbook in memory. Values are copied (a formula as its computed
    value); the coded columns get their drop-down lists again, widths and the frozen header."""
    source = load_workbook(path, read_only=True, data_only=True)
    target = Workbook(write_only=True)
    try:
        for sheet in source.worksheets:
            rows = sheet.iter_rows(values_only=True)
            if sheet.title in INSTRUCTION_SHEETS:
                if not only_rejected:
                    copy = target.create_sheet(sheet.title)
                    for values in rows:
                        copy.append([_kept(copy, v) for v in values])
                continue
            first = [tuple(r) for r in itertools.islice(rows, HEADER_SCAN_ROWS)]
            header = find_header(first)
            if header is None:
                if not only_rejected:
                    copy = target.create_sheet(sheet.title)
                    for values in itertools.chain(first, rows):
                        copy.append([_kept(copy, v) for v in values])
                continue
            head = list(first[header - 1])
            width = _error_column(head) - 1
            copy = target.create_sheet(sheet.title)
            above = [] if only_rejected else first[:header - 1]
            _dress(copy, head[:width], rows=sheet.max_row or 1000, header=len(above) + 1)
            for values in above:
                copy.append([_kept(copy, v) for v in values])
            mark = WriteOnlyCell(copy, value=ERROR_HEADER)
            mark.font = Font(bold=True, color="C00000")
            copy.append([_kept(copy, v) for v in head[:width]] + [mark])
            for number, values in enumerate(itertools.chain(first[header:], rows), start=header + 1):
                errors = by_row.get((sheet.title, number))
                if only_rejected and not errors:
                    continue
                cells = [_kept(copy, v) for v in (list(values) + [None] * width)[:width]]
                if errors:
                    explained = text_cell(copy, _explain(errors))
                    explained.fill = ERROR_FILL
                    explained.alignment = Alignment(wrap_text=True)
                    cells.append(explained)
                copy.append(cells)
        if not target.worksheets:
            target.create_sheet("未导入")
        target.save(out)
    finally:
        source.close()


def _kept(sheet, value):
    """A value copied as it was: a string that looks like a formula stays a string."""
    if isinstance(value, str) and (value.startswith("=") or not value.isprintable()):
        return text_cell(sheet, value)
    return value


def _dress(sheet, head: list, *, rows: int, header: int) -> None:
    """Widths, the frozen header and the drop-down lists of a marked copy (set before its rows)."""
    keys = [column_key(h) for h in head]
    for index, key in enumerate(keys, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = BY_KEY[key].width if key in BY_KEY else 14
        if key in CHOICES:
            sheet.data_validations.append(_choices(key, get_column_letter(index), rows))
    sheet.column_dimensions[get_column_letter(len(head) + 1)].width = 60
    sheet.freeze_panes = f"A{header + 1}"


def _choices(key: str, letter: str, rows: int) -> DataValidation:
    validation = DataValidation(type="list", formula1='"' + ",".join(CHOICES[key]) + '"', allow_blank=True,
                                showErrorMessage=True, error="请从下拉列表中选择", errorTitle=BY_KEY[key].header)
    validation.add(f"{letter}2:{letter}{max(rows, 1000) + 1}")
    return validation


def _error_column(head: list) -> int:
    """The existing 错误说明 column (a corrected copy imported again), else a new last column."""
    if ERROR_HEADER in head:
        return head.index(ERROR_HEADER) + 1
    return max((i for i, v in enumerate(head, start=1) if v not in (None, "")), default=0) + 1


def _marked_csv(path: Path, by_row, out: Path, *, only_rejected: bool) -> None:
    rows = list(csv_rows(decode_csv(path)[0]))
    sheet = path.name
    header = find_header(rows) or 1
    head = rows[header - 1]
    keep = len(head) - 1 if head and head[-1] == ERROR_HEADER else len(head)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(head[:keep] + [ERROR_HEADER])
    for number, row in enumerate(rows[header:], start=header + 1):
        errors = by_row.get((sheet, number))
        if only_rejected and not errors:
            continue
        writer.writerow((row + [""] * keep)[:keep] + [_explain(errors) if errors else ""])
    out.write_text(buffer.getvalue(), encoding="utf-8-sig")
