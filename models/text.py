"""The one rule for text that people type or import (descriptions, measures, notes, reasons):
what a workbook can hold, within one length per field, the same on every edge.

A control character (NUL and the other C0 codes but tab, line feed and carriage return, and
DEL) cannot be written to an .xlsx cell and means nothing to a reader: it is refused, never
stripped silently. The edges name the field (pages, API, CLI) or the sheet, row and column
(the import)."""

from __future__ import annotations

import re

from rectify.models.errors import InvalidInput

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_LIMIT = 2000  # characters, for every free-text field


def text_problem(text: str, *, limit: int = TEXT_LIMIT) -> str | None:
    """What is wrong with a text, in words for its author; None when it is fine."""
    found = CONTROL.search(text)
    if found is not None:
        return f"含有不可见的控制字符 U+{ord(found.group()):04X}(第 {found.start() + 1} 个字符),请删除后重试"
    if len(text) > limit:
        return f"过长:{len(text)} 个字,最多 {limit} 个字"
    return None


def checked_text(text: str, what: str, *, where: str = "", field: str | None = None,
                 limit: int = TEXT_LIMIT) -> str:
    """The text, or InvalidInput naming the field and what is wrong."""
    problem = text_problem(text, limit=limit)
    if problem is not None:
        raise InvalidInput(f"{where}{what}{problem}", field=field)
    return text
