"""Reading a findings file row by row: .xlsx (openpyxl, read-only, streamed) or .csv.

A CSV may be UTF-8 (with or without BOM) or GB18030, as Excel on a Chinese Windows saves it,
or UTF-16 with its BOM (Excel's "Unicode 文本", tab-separated). The header row is found among
the first rows of each sheet (a title row above it is fine).

Every way a file can be broken ends in one ImportRejected naming the file and what is wrong
with it (empty, an old .xls or a password-protected workbook, not a workbook at all, cut
short, unreadable): the file is looked at before it is opened, and a workbook that breaks
while its rows are read stops there, with the sheet and row reached.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from rectify.flows.intake import normalise
from rectify.flows.intake.columns import (
    BY_KEY,
    COLUMNS,
    HEADER_MIN_COLUMNS,
    HEADER_SCAN_ROWS,
    INSTRUCTION_SHEETS,
    duplicated_columns,
    header_columns,
    label_of,
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
            where += f" {self.letter + '列' if self.letter else ''}「{label_of(self.column)}」"
        shown = "" if self.value in (None, "") else f" 值「{self.value}」"
        return f"{where}{shown}:{self.message}"


@dataclass
class SourceRow:
    sheet: str
    row: int
    values: dict[str, object]
    letters: dict[str, str]
    formulas: dict[str, str] = field(default_factory=dict)  # key -> a formula the file holds no value of
    extra: dict[str, object] = field(default_factory=dict)  # a phone record's time, position and photos

    @cached_property
    def clean(self) -> dict[str, str]:
        """Every cell as normalised text, computed once per row."""
        return {key: normalise.text(value) for key, value in self.values.items()}

    def text(self, key: str) -> str:
        return self.clean.get(key, "")

    def name(self, key: str) -> str:
        return self.text(key).replace(" ", "")

    def is_blank(self) -> bool:
        return not any(self.clean.values()) and not self.formulas


@dataclass
class Sheet:
    name: str
    header_row: int
    columns: dict[str, int]  # key -> 0-based index
    rows: Iterator[SourceRow] = field(repr=False)


Formulas = dict[int, dict[int, str]]  # row -> 0-based column -> formula text


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
        self.encoding = ""
        with path.open("rb") as head:
            start = head.read(512)
        if not start:
            raise ImportRejected(f"文件 {path.name} 是空的(0 字节),请确认选对了文件")
        if not self.is_csv and not start.startswith(b"PK\x03\x04"):
            raise ImportRejected(f"文件 {path.name} 不是 .xlsx 工作簿:{_what_instead(start)}")

    def sheets(self) -> Iterator[Sheet]:
        found_any = False
        for name, raw_rows, formulas in self._raw_sheets():
            if name in INSTRUCTION_SHEETS:
                continue
            sheet = self._locate_header(name, raw_rows, formulas)
            if sheet is not None:
                found_any = True
                yield sheet
        if not found_any and not self.errors:
            self.errors.append(RowError(self.path.name, None, "文件中没有任何数据(所有工作表都是空的)"))

    def _raw_sheets(self) -> Iterator[tuple[str, Iterator[tuple], Formulas]]:
        if self.is_csv:
            text, self.encoding = decode_csv(self.path)
            yield self.path.name, iter([tuple(r) for r in csv_rows(text)]), {}
            return
        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except BROKEN as exc:
            raise ImportRejected(f"文件 {self.path.name} 不是完整的 Excel 工作簿(.xlsx),可能已损坏或未下载完整:"
                                 f"{exc or type(exc).__name__}") from None
        try:
            for worksheet in workbook.worksheets:
                try:
                    formulas = uncached_formulas(worksheet._get_source())
                except BROKEN as exc:
                    raise ImportRejected(f"文件 {self.path.name} 的工作表「{worksheet.title}」已损坏({exc})") from None
                yield worksheet.title, self._guarded(worksheet.title, worksheet.iter_rows(values_only=True)), formulas
        finally:
            workbook.close()

    def _guarded(self, title: str, rows: Iterator[tuple]) -> Iterator[tuple]:
        number = 0
        try:
            for number, cells in enumerate(rows, start=1):  # noqa: B007  (the row reached, for the message)
                yield cells
        except BROKEN as exc:
            raise ImportRejected(f"文件 {self.path.name} 已损坏:读到工作表「{title}」第 {number + 1} 行时出错"
                                 f"({exc or type(exc).__name__});请在 Excel 中打开并另存后重试") from None

    def _locate_header(self, name: str, raw_rows: Iterator[tuple], formulas: Formulas) -> Sheet | None:
        best: tuple[int, int, dict[str, int]] | None = None  # (matches, row number, columns)
        number = 0
        header_cells: tuple = ()
        for number, cells in enumerate(raw_rows, start=1):
            columns = header_columns(cells)
            if columns and (best is None or len(columns) > best[0]):
                best, header_cells = (len(columns), number, columns), cells
            if (best and best[0] >= HEADER_MIN_COLUMNS) or number >= HEADER_SCAN_ROWS:
                break
        if number == 0:
            self.warnings.append(f"工作表「{name}」是空的,已跳过")
            return None
        if best is None:
            self.errors.append(RowError(name, None, "找不到表头行(前 10 行中没有「县(市)」「检查项目」「结果」等列名)"
                                        + self._encoding_hint()))
            return None
        _, header_row, columns = best
        twice = duplicated_columns(header_cells)
        if twice:
            self.errors.extend(RowError(name, header_row, f"{'、'.join(get_column_letter(i + 1) + '列' for i in at)}"
                                        f"都是「{BY_KEY[key].header}」,无法确定读哪一列;请删除或改名其中多余的列")
                               for key, at in twice.items())
            return None
        missing = [c.header for c in COLUMNS if c.required and c.key not in columns]
        if missing:
            self.errors.append(RowError(name, header_row, "缺少必需的列:" + "、".join(missing)))
            return None
        return Sheet(name, header_row, columns, self._rows(name, header_row, columns, raw_rows, formulas))

    @staticmethod
    def _rows(name: str, header_row: int, columns: dict[str, int], raw_rows: Iterator[tuple],
              formulas: Formulas) -> Iterator[SourceRow]:
        letters = {key: get_column_letter(index + 1) for key, index in columns.items()}
        for number, cells in enumerate(raw_rows, start=header_row + 1):
            cells = cells or ()
            values = {key: cells[index] if index < len(cells) else None for key, index in columns.items()}
            row = SourceRow(name, number, values, letters)
            if number in formulas:
                row.formulas = {key: formulas[number][index] for key, index in columns.items()
                                if index in formulas[number]}
            yield row


    def _encoding_hint(self) -> str:
        if not self.is_csv or self.encoding == "utf-8":
            return ""
        try:
            self.path.read_bytes().decode("big5")
            guess = "看起来是繁体中文(Big5)编码"
        except UnicodeDecodeError:
            guess = "可能是其他编码"
        return (f";文件按 {self.encoding.upper()} 读取后找不到列名,{guess}:"
                "请在 Excel 中「另存为 → CSV UTF-8(逗号分隔)」后重试")


# A formula cell whose file holds no computed value: written by a program, never opened and
# saved in Excel. openpyxl reads it as empty; the sheet's XML tells it apart.
UNCACHED = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*>(?:<f[^>]*/>|<f[^>]*>([^<]*)</f>)(?:<v\s*/>|<v></v>)?</c>')
SCAN = 1 << 20


def uncached_formulas(stream) -> Formulas:
    """Formula cells without a value in a sheet's XML, read in chunks (the sheet is never held)."""
    found: Formulas = {}
    tail = b""
    with stream:
        while chunk := stream.read(SCAN):
            text = tail + chunk
            if b"<f" in text:
                for match in UNCACHED.finditer(text):
                    column = column_index_from_string(match[1].decode()) - 1
                    found.setdefault(int(match[2]), {})[column] = html.unescape((match[3] or b"").decode())
            tail = text[-4096:]
    return found


# What a workbook's reading raises when the file is cut short, tampered with or not one.
BROKEN = (InvalidFileException, zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ParseError, ValueError,
          TypeError, IndexError, OSError, EOFError, zlib.error, NotImplementedError)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _what_instead(start: bytes) -> str:
    if start.startswith(OLE):
        return "它是旧版 .xls 格式,或设置了打开密码的工作簿;请在 Excel 中取消密码,另存为 .xlsx 后重试"
    if start.lstrip().lower().startswith((b"<", b"<?xml", b"<html")):
        return "内容是网页或 XML(可能是从网站导出的「假 Excel」);请在 Excel 中打开并另存为 .xlsx"
    if b"\0" not in start:
        return "内容是文本;如是 CSV,请把扩展名改为 .csv,或在 Excel 中另存为 .xlsx"
    return "无法识别的内容;请在 Excel 中打开并另存为 .xlsx"


def decode_csv(path: Path) -> tuple[str, str]:
    """A CSV's text and its encoding: UTF-16 or UTF-8 by their BOM, else UTF-8, else GB18030."""
    data = path.read_bytes()
    for bom, encoding in ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"), (b"\xef\xbb\xbf", "utf-8-sig")):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding.removesuffix("-sig")
            except UnicodeDecodeError:
                break
    if data[1:200:2].count(0) > 20 or data[0:200:2].count(0) > 20:  # UTF-16 without its BOM
        encoding = "utf-16-le" if data[1:200:2].count(0) > data[0:200:2].count(0) else "utf-16-be"
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ImportRejected(f"文件 {path.name} 的编码无法识别(请在 Excel 中「另存为 → CSV UTF-8(逗号分隔)」)")


def csv_rows(text: str) -> Iterator[list[str]]:
    """Rows of a CSV, or of the tab-separated text Excel saves as "Unicode 文本"."""
    first = text.split("\n", 1)[0]
    return csv.reader(io.StringIO(text), delimiter="\t" if "\t" in first and "," not in first else ",")
