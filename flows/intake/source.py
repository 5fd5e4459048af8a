"""Reading a findings file row by row: .xlsx (openpyxl, read-only, streamed) or .csv.

A CSV may be UTF-8 (with or without BOM) or GB18030, as Excel on a Chinese Windows saves it.
The header row is found among the first rows of each sheet (a title row above it is fine).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from rectify.flows.intake import normalise
from rectify.flows.intake.columns import (
    BY_KEY,
    COLUMNS,
    HEADER_MIN_COLUMNS,
    HEADER_SCAN_ROWS,
    INSTRUCTION_SHEETS,
    header_columns,
)
from rectify.models.errors import ImportRejected


@dataclass(frozen=True)
class RowError:
    """One thing wrong, and exactly where: sheet, row, column (letter and header), value."""

    sheet: str
    row: int | None
    message: str
    column: str | None = None  # the column's key
    letter: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = f"工作表「{self.sheet}」"
        if self.row is not None:
            where += f" 第 {self.row} 行"
        if self.column is not None:
            where += f" {self.letter or ''}列「{BY_KEY[self.column].header}」"
        shown = "" if self.value in (None, "") else f" 值「{self.value}」"
        return f"{where}{shown}:{self.message}"


@dataclass
class SourceRow:
    sheet: str
    row: int
    values: dict[str, object]
    letters: dict[str, str]

    @cached_property
    def clean(self) -> dict[str, str]:
        """Every cell as normalised text, computed once per row."""
        return {key: normalise.text(value) for key, value in self.values.items()}

    def text(self, key: str) -> str:
        return self.clean.get(key, "")

    def name(self, key: str) -> str:
        return self.text(key).replace(" ", "")

    def is_blank(self) -> bool:
        return not any(self.clean.values())


@dataclass
class Sheet:
    name: str
    header_row: int
    columns: dict[str, int]  # key -> 0-based index
    rows: Iterator[SourceRow] = field(repr=False)


class FindingsFile:
    """The sheets of a findings file; problems with the file's shape land in `errors`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: list[RowError] = []
        self.warnings: list[str] = []
        if not path.is_file():
            raise ImportRejected(f"找不到文件 {path}")
        suffix = path.suffix.lower()
        if suffix not in (".xlsx", ".xlsm", ".csv"):
            hint = ",请在 Excel 中另存为 .xlsx" if suffix in (".xls", ".et", ".wps") else ""
            raise ImportRejected(f"文件 {path.name} 不是支持的格式(.xlsx 或 .csv){hint}")
        self.is_csv = suffix == ".csv"

    def sheets(self) -> Iterator[Sheet]:
        found_any = False
        for name, raw_rows in self._raw_sheets():
            if name in INSTRUCTION_SHEETS:
                continue
            sheet = self._locate_header(name, raw_rows)
            if sheet is not None:
                found_any = True
                yield sheet
        if not found_any and not self.errors:
            self.errors.append(RowError(self.path.name, None, "文件中没有任何数据(所有工作表都是空的)"))

    def _raw_sheets(self) -> Iterator[tuple[str, Iterator[tuple]]]:
        if self.is_csv:
            yield self.path.name, iter([tuple(r) for r in csv.reader(io.StringIO(decode_csv(self.path)))])
            return
        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
            raise ImportRejected(f"文件 {self.path.name} 不是有效的 Excel 工作簿(.xlsx):{exc}") from None
        try:
            for worksheet in workbook.worksheets:
                yield worksheet.title, worksheet.iter_rows(values_only=True)
        finally:
            workbook.close()

    def _locate_header(self, name: str, raw_rows: Iterator[tuple]) -> Sheet | None:
        best: tuple[int, int, dict[str, int]] | None = None  # (matches, row number, columns)
        number = 0
        for number, cells in enumerate(raw_rows, start=1):
            columns = header_columns(cells)
            if columns and (best is None or len(columns) > best[0]):
                best = (len(columns), number, columns)
            if (best and best[0] >= HEADER_MIN_COLUMNS) or number >= HEADER_SCAN_ROWS:
                break
        if number == 0:
            self.warnings.append(f"工作表「{name}」是空的,已跳过")
            return None
        if best is None:
            self.errors.append(RowError(name, None, "找不到表头行(前 10 行中没有「县(市)」「检查项目」「结果」等列名)"))
            return None
        _, header_row, columns = best
        missing = [c.header for c in COLUMNS if c.required and c.key not in columns]
        if missing:
            self.errors.append(RowError(name, header_row, "缺少必需的列:" + "、".join(missing)))
            return None
        return Sheet(name, header_row, columns, self._rows(name, header_row, columns, raw_rows))

    @staticmethod
    def _rows(name: str, header_row: int, columns: dict[str, int], raw_rows: Iterator[tuple]) -> Iterator[SourceRow]:
        letters = {key: get_column_letter(index + 1) for key, index in columns.items()}
        for number, cells in enumerate(raw_rows, start=header_row + 1):
            cells = cells or ()
            values = {key: cells[index] if index < len(cells) else None for key, index in columns.items()}
            yield SourceRow(name, number, values, letters)


def decode_csv(path: Path) -> str:
    """A CSV's text: UTF-8 with or without BOM, else GB18030."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRejected(f"文件 {path.name} 的编码无法识别(请保存为 UTF-8 或 GB18030 的 CSV)")
