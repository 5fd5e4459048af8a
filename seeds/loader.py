"""`rectify seed`: load the reference data; running it again changes nothing."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from rectify.models.calendar import HolidayOverride
from rectify.models.catalogue import CheckItem
from rectify.models.enums import DayKind, Level, Role, UnitKind
from rectify.models.errors import ImportRejected
from rectify.models.org import SYSTEM_USER, Unit, User
from rectify.models.places import County
from rectify.models.policy import PolicySetting
from rectify.seeds.sync import SyncCount, sync_rows

DATA = Path(__file__).resolve().parent / "data"


@dataclass
class SeedReport:
    counts: dict[str, SyncCount] = field(default_factory=dict)

    def add(self, table: str, count: SyncCount) -> None:
        self.counts.setdefault(table, SyncCount())
        self.counts[table] += count

    @property
    def changed(self) -> bool:
        return any(c.added or c.updated for c in self.counts.values())


def _json(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def load_reference(session: Session, report: SeedReport | None = None) -> SeedReport:
    """Counties and their governments, the catalogue, the policy and the holiday file."""
    report = report or SeedReport()
    counties, count = sync_rows(
        session,
        County,
        ["name"],
        [
            {"name": c["name"], "admin_code": c["admin_code"], "sort_order": i}
            for i, c in enumerate(_json("counties.json"), start=1)
        ],
    )
    report.add("counties", count)
    _, count = sync_rows(
        session,
        Unit,
        ["name"],
        [
            {"name": c.name, "kind": UnitKind.COUNTY_GOVERNMENT, "county_id": c.id}
            for c in counties.values()
        ],
    )
    report.add("units", count)
    _, count = sync_rows(
        session,
        CheckItem,
        ["code"],
        [
            {
                "code": item["code"],
                "level": Level(item["level"]),
                "category": item["category"],
                "title": item["title"],
                "standard": item["standard"],
                "active": True,
            }
            for item in _json("catalogue.json")
        ],
    )
    report.add("check_items", count)
    _, count = sync_rows(session, User, ["name"], [
        {"name": SYSTEM_USER, "display_name": "系统自动督办", "role": Role.COORDINATOR, "unit_id": None,
         "linked_county_id": None, "active": True},
    ])
    report.add("users", count)
    _, count = sync_rows(
        session,
        PolicySetting,
        ["key"],
        [{"key": k, "value": v} for k, v in _json("policy.json").items()],
    )
    report.add("policy_settings", count)
    holidays_file = DATA / "holidays.csv"
    _, count = sync_rows(
        session,
        HolidayOverride,
        ["day"],
        read_holidays(holidays_file.read_text(encoding="utf-8"), source=str(holidays_file)),
    )
    report.add("holiday_overrides", count)
    return report


def read_holidays(text: str, *, source: str) -> list[dict]:
    """Parse the operator's holiday file: date,kind(休|班),name; '#' starts a comment."""
    rows: list[dict] = []
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)]
    content = [(n, line) for n, line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not content:
        return rows
    reader = csv.reader([line for _, line in content])
    header = next(reader)
    if [h.strip() for h in header[:2]] != ["date", "kind"]:
        raise ImportRejected(f"{Path(source).name} 第 {content[0][0]} 行:表头应为 date,kind,name")
    for (line_no, _), record in zip(content[1:], reader, strict=True):
        try:
            day = date.fromisoformat(record[0].strip())
        except (ValueError, IndexError):
            raise ImportRejected(
                f"{Path(source).name} 第 {line_no} 行第 1 列:日期「{record[0] if record else ''}」应为 YYYY-MM-DD"
            ) from None
        try:
            kind = DayKind.parse(record[1])
        except (ValueError, IndexError):
            raise ImportRejected(
                f"{Path(source).name} 第 {line_no} 行第 2 列:类别应为「休」或「班」"
            ) from None
        name = record[2].strip() if len(record) > 2 and record[2].strip() else None
        rows.append({"day": day, "kind": kind, "name": name})
    return rows
