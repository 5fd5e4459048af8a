"""The findings workbook's columns: Chinese headers, the English aliases accepted, widths."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    width: int = 12
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("ref", "问题编号", ("ref", "finding_no", "no"), 10),
    Column("team", "督导组", ("team",), 14),
    Column("checked_on", "检查日期", ("date", "inspection_date", "checked_on"), 12),
    Column("inspector", "检查人", ("inspector",), 10),
    Column("county", "县(市)", ("县", "县市", "county"), 10, required=True),
    Column("township", "乡(镇)", ("乡镇", "乡", "township"), 10),
    Column("village", "村", ("village",), 10),
    Column("household_no", "户编号", ("建档立卡编号", "household_no", "registry_no"), 16),
    Column("household_head", "户主姓名", ("户主", "household_head", "head_name"), 10),
    Column("item", "检查项目", ("item", "check_item"), 22, required=True),
    Column("result", "结果", ("检查结果", "result"), 10, required=True),
    Column("description", "问题描述", ("description",), 36),
    Column("severity", "严重程度", ("severity",), 10),
    Column("unit", "责任单位", ("unit", "responsible_unit"), 18),
    Column("deadline", "整改时限", ("deadline",), 12),
    Column("on_site", "是否现场解决", ("现场解决", "on_site", "resolved_on_site"), 12),
    Column("on_site_note", "现场解决情况", ("on_site_note",), 28),
    Column("leader", "组长", ("team_leader", "leader", "cosigner"), 10),
)
BY_KEY = {c.key: c for c in COLUMNS}
# What only the capture page's records carry beside the columns (flows/intake/capture.py).
PHONE_FIELDS = {"captured_at": "记录时间", "position": "位置", "photos": "照片"}


def label_of(key: str) -> str:
    """The name an error gives a column or a phone record's field."""
    return BY_KEY[key].header if key in BY_KEY else PHONE_FIELDS.get(key, key)
# Written by rectify beside the columns above; ignored when read back.
STANDARD_HEADER = "检查标准"
ERROR_HEADER = "错误说明"
# Sheets a reader skips: the template's instructions.
INSTRUCTION_SHEETS = ("填写说明",)
# A row naming at least this many known columns is the header row.
HEADER_MIN_COLUMNS = 3
HEADER_SCAN_ROWS = 10
RESULT_COLUMNS = ("result", "description", "severity", "unit", "deadline", "on_site", "on_site_note", "leader")


def _fold(text: str) -> str:
    """Header text as compared: full-width folded, no spaces or brackets, lower case."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not ch.isspace() and ch not in "()()*").lower()


_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.header, *_column.aliases):
        _LOOKUP[_fold(_name)] = _column.key


def column_key(header: object) -> str | None:
    """The column a header cell names, or None for a column rectify does not read."""
    if header is None:
        return None
    return _LOOKUP.get(_fold(str(header)))


def header_columns(cells) -> dict[str, int]:
    """The known columns a row names, by key, with their 0-based index (first occurrence wins)."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells or ()):
        key = column_key(cell)
        if key is not None and key not in columns:
            columns[key] = index
    return columns


def duplicated_columns(cells) -> dict[str, list[int]]:
    """The known columns a header row names more than once, with every 0-based index."""
    at: dict[str, list[int]] = {}
    for index, cell in enumerate(cells or ()):
        key = column_key(cell)
        if key is not None:
            at.setdefault(key, []).append(index)
    return {key: indices for key, indices in at.items() if len(indices) > 1}


def find_header(rows) -> int | None:
    """The 1-based number of the header row among the first rows, or None."""
    for number, cells in enumerate(rows, start=1):
        if number > HEADER_SCAN_ROWS:
            return None
        if len(header_columns(cells)) >= HEADER_MIN_COLUMNS:
            return number
    return None
