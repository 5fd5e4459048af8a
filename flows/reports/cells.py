"""Cells of every workbook rectify writes: text stays text.

openpyxl turns a string that starts with "=" into a formula, so a stored description such as
`=HYPERLINK("http://…")` would become a live link in a government workbook; and a control
character makes it refuse the whole file. Every export writes its rows through these: a
formula-looking string is written as a literal string, and what a cell cannot hold is dropped
(input refuses it already, models/text.py; this guards rows stored before that rule)."""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE


def _safe(value):
    # isprintable() is the fast test (CJK is printable; a control character is not).
    if isinstance(value, str) and not value.isprintable():
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def literal(cell):
    """The cell, a string kept as a string even when it looks like a formula."""
    if cell.data_type == "f":
        cell.data_type = "s"
    return cell


def text_cell(sheet, value) -> WriteOnlyCell:
    """A write-only sheet's cell holding `value` as data, never as a formula."""
    return literal(WriteOnlyCell(sheet, value=_safe(value)))


def append_row(sheet, values: Iterable) -> None:
    """Append one row of data to a (normal) sheet: no value becomes a formula."""
    sheet.append([_safe(v) for v in values])
    for cell in sheet[sheet.max_row]:
        literal(cell)


def for_paper(sheet, *, title_rows: str) -> None:
    """Landscape A4, fit to the page's width, `title_rows` repeated on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = title_rows
