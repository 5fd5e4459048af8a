"""The instant a command acts at: now, or the --as-of the user gave."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from rectify.models.calendar import SHANGHAI
from rectify.models.errors import InvalidInput

AS_OF_DAY_TIME = time(9, 0)


def parse_instant(text: str | None) -> datetime:
    """'2016-08-20' (09:00 Asia/Shanghai), '2016-08-20 15:30', or ISO with an offset."""
    if text is None or not text.strip():
        return datetime.now(timezone.utc)
    value = text.strip().replace("/", "-")
    try:
        if len(value) <= 10:
            return datetime.combine(date.fromisoformat(value), AS_OF_DAY_TIME, SHANGHAI)
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
