"""Workbooks rectify writes for the field: the sampling plan, the blank template, and copies
of a rejected file with each row's errors in an added 错误说明 column."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from rectify.flows.intake.columns import BY_KEY, COLUMNS, ERROR_HEADER, INSTRUCTION_SHEETS, STANDARD_HEADER, find_header
from rectify.flows.intake.source import RowError, csv_rows, decode_csv
from rectify.models.enums import Result, Severity

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ERROR_FILL = PatternFill("solid", fgColor="F8CBAD")

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
            validation = DataValidation(type="list", formula1='"' + ",".join(CHOICES[key]) + '"', allow_blank=True,
                                        showErrorMessage=True, error="请从下拉列表中选择",
                                        errorTitle=BY_KEY[key].header)
            validation.add(f"{letter}2:{letter}{max(count, 1000) + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{count + 1}"
    return sheet


def plan_keys(level: str) -> list[str]:
    return [*LEVEL_KEYS[level], "item", STANDARD_HEADER, *TAIL_KEYS]


def write_template(path: Path) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    add_sheet(workbook, "问题清单", [c.key for c in COLUMNS], [])
    notes = workbook.create_sheet(INSTRUCTION_SHEETS[0])
    notes.append(["列名", "必填", "说明"])
    for column in COLUMNS:
        notes.append([column.header, "是" if column.required else "", _EXPLAIN[column.key]])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["C"].width = 90
    for cell in notes[1]:
        cell.font = Font(bold=True)
    workbook.save(path)


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
    source = load_workbook(path)
    target = Workbook() if only_rejected else source
    if only_rejected:
        target.remove(target.active)
    for sheet in source.worksheets:
        header = _header_row(sheet)
        if header is None:
            continue
        error_col = _error_column(sheet, header)
        rows = [r for (s, r) in by_row if s == sheet.title]
        if only_rejected:
            copy = target.create_sheet(sheet.title)
            copy.append([c.value for c in sheet[header]][: error_col - 1] + [ERROR_HEADER])
            for number in sorted(rows):
                values = [c.value for c in sheet[number]][: error_col - 1]
                values += [None] * (error_col - 1 - len(values))
                copy.append(values + [_explain(by_row[(sheet.title, number)])])
                copy.cell(row=copy.max_row, column=error_col).fill = ERROR_FILL
            copy.freeze_panes = "A2"
            copy.column_dimensions[get_column_letter(error_col)].width = 60
            continue
        sheet.cell(row=header, column=error_col, value=ERROR_HEADER).font = Font(bold=True, color="C00000")
        sheet.column_dimensions[get_column_letter(error_col)].width = 60
        for number in range(header + 1, sheet.max_row + 1):
            cell = sheet.cell(row=number, column=error_col)
            errors = by_row.get((sheet.title, number))
            cell.value = _explain(errors) if errors else None
            if errors:
                cell.fill = ERROR_FILL
                cell.alignment = Alignment(wrap_text=True)
    if only_rejected and not target.worksheets:
        target.create_sheet("未导入")
    target.save(out)


def _header_row(sheet: Worksheet) -> int | None:
    if sheet.title in INSTRUCTION_SHEETS:
        return None
    return find_header(sheet.iter_rows(max_row=10, values_only=True))


def _error_column(sheet: Worksheet, header: int) -> int:
    """The existing 错误说明 column (a corrected copy imported again), else a new last column."""
    for index, cell in enumerate(sheet[header], start=1):
        if cell.value == ERROR_HEADER:
            return index
    last = max((i for i, c in enumerate(sheet[header], start=1) if c.value not in (None, "")), default=0)
    return last + 1


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
