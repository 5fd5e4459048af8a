"""The instant a command acts at: now, or the --as-of the user gave.

The one clock rule (docs/cli.md): a date alone means the end of that day, 24:00 Asia/Shanghai
(the last instant before it), for every command and page; "截至 2016-09-30" then counts every
step of that day. A date with a time means that minute, Beijing time.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from rectify.models.calendar import SHANGHAI, end_of_day
from rectify.models.errors import InvalidInput


def parse_instant(text: str | None) -> datetime:
    """'2016-08-20' (the end of that day), '2016-08-20 15:30' (Beijing time), or ISO with an offset."""
    if text is None or not text.strip():
        return datetime.now(timezone.utc)
    value = text.strip().replace("/", "-")
    try:
        if len(value) <= 10:
            return end_of_day(date.fromisoformat(value))
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"时间「{text}」格式不对,应为 2016-08-20 或 2016-08-20 15:30(北京时间)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


def parse_date(text: str, *, what: str = "日期") -> date:
    """A date typed on the command line or into a page, in the forms the workbooks accept."""
    from rectify.flows.intake.normalise import a_date

    try:
        return a_date(text, year=None)
    except ValueError as exc:
        raise InvalidInput(f"{what}「{text}」{exc}") from None
