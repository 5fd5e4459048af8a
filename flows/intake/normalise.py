"""What field teams really type, made regular: full-width characters, stray spaces, 是/否/√/×,
dates as Excel serials or in Chinese. Each parser raises ValueError with the reason in Chinese."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from rectify.models.enums import Result, Severity

_EXCEL_EPOCH = date(1899, 12, 30)
_SPACES = re.compile(r"\s+")


def text(value: object) -> str:
    """A cell as clean text: NFKC-folded, trimmed, inner runs of spaces made one."""
    if value is None:
        return ""
    if isinstance(value, str):
        folded = value if value.isascii() else unicodedata.normalize("NFKC", value)
        if "  " in folded or "\n" in folded or "\t" in folded or "\r" in folded:
            folded = _SPACES.sub(" ", folded)
        return folded.strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", str(value))).strip()


def name(value: object) -> str:
    """A name (place, unit, person, code): Chinese names carry no spaces, so none are kept."""
    return _SPACES.sub("", text(value))


_YES = {"是", "√", "✓", "✔", "y", "yes", "true", "1", "对"}
_NO = {"否", "×", "✗", "✘", "x", "n", "no", "false", "0", "", "无"}


def yes_no(value: object) -> bool:
    folded = name(value).lower()
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise ValueError("应填 是 或 否(也可用 √ ×)")


_RESULTS = {
    Result.PASS: {"符合", "合格", "通过", "√", "✓", "✔", "pass", "ok"},
    Result.FAIL: {"不符合", "不合格", "未通过", "有问题", "×", "✗", "✘", "fail"},
    Result.GOOD: {"典型经验", "典型", "经验", "good", "goodpractice"},
}


def result(value: object) -> Result:
    folded = name(value).lower()
    for member, spellings in _RESULTS.items():
        if folded in spellings:
            return member
    raise ValueError("应填 " + " / ".join(Result.choices()))


def severity(value: object) -> Severity:
    try:
        return Severity.parse(name(value).lower())
    except ValueError:
        raise ValueError("应填 " + " / ".join(Severity.choices())) from None


_FULL = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH_DAY = re.compile(r"^(\d{1,2})[-/.月](\d{1,2})日?$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
_WORKDAYS = re.compile(r"^(\d{1,3})(个?工作日)?$")


def a_date(value: object, *, year: int | None) -> date:
    """A date in any of the forms field teams use; a month and day alone take `year` (refused
    when there is none). The one date parser of the workbooks, the CLI and the pages."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and 20000 <= value < 80000:
        return _EXCEL_EPOCH + timedelta(days=int(value))
    raw = name(value)
    if year is None and _MONTH_DAY.match(raw):
        raise ValueError("须写明年份(例:2016-08-20)")
    try:
        if match := _FULL.match(raw) or _COMPACT.match(raw):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if (match := _MONTH_DAY.match(raw)) and year is not None:
            return date(year, int(match[1]), int(match[2]))
        if _SERIAL.match(raw) and 20000 <= float(raw) < 80000:
            return _EXCEL_EPOCH + timedelta(days=int(float(raw)))
    except ValueError:
        raise ValueError("不是有效日期") from None
    raise ValueError("不是可识别的日期(例:2016-08-20、2016/8/20、2016年8月20日、8月20日)")


def deadline(value: object, *, year: int) -> date | int:
    """A date, or a number of working days (15, 15个工作日)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1000:
        return int(value)
    if match := _WORKDAYS.match(name(value)):
        days = int(match[1])
        if days < 1:
            raise ValueError("工作日数必须大于 0")
        return days
    return a_date(value, year=year)
