"""The capture page's side of intake: the sample it loads, and the batch it syncs.

A batch is what a phone recorded offline, kept as a JSON file and imported by the same
`import-findings` flow as a workbook: each record is a row of the columns (columns.py), in
one sheet 手机采集, numbered from 1 in the batch's order, plus what only a phone has: when the
row was recorded, where, and its photos (already uploaded, named by sha256). The record's id
is its 问题编号, so a batch synced twice is read the second time as rows already imported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from rectify.flows.evidence_store import Upload, blob_path, check_upload
from rectify.flows.intake.columns import BY_KEY, PHONE_FIELDS
from rectify.flows.intake.source import RowError, Sheet, SourceRow
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Role
from rectify.models.errors import ImportRejected, InvalidInput
from rectify.models.inspections import Inspection, InspectionSample
from rectify.models.org import Unit, User
from rectify.models.photos import valid_position
from rectify.models.policy import Policy

SHEET = "手机采集"
MAX_RECORDS = 20_000
MAX_BYTES = 32 << 20
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class PhoneFacts:
    captured_at: datetime | None = None
    position: tuple[float, float] | None = None
    photos: list[tuple[Upload, datetime | None, tuple[float, float] | None]] = field(default_factory=list)


class CaptureBatch:
    """A synced batch read as a findings file with one sheet (the interface of FindingsFile)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: list[RowError] = []
        self.warnings: list[str] = []
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            raise ImportRejected(f"同步数据 {path.name} 不存在或超过 {MAX_BYTES >> 20} MB")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportRejected(f"同步数据不是有效的 JSON:{exc}") from None
        records = data.get("records") if isinstance(data, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ImportRejected("同步数据缺少记录列表(records)")
        if len(records) > MAX_RECORDS:
            raise ImportRejected(f"一次同步最多 {MAX_RECORDS} 条记录,本次有 {len(records)} 条")
        self.records: list[dict] = records

    def sheets(self) -> Iterator[Sheet]:
        columns = {key: index for index, key in enumerate(BY_KEY)}
        yield Sheet(SHEET, 0, columns, self._rows())

    def _rows(self) -> Iterator[SourceRow]:
        for number, record in enumerate(self.records, start=1):
            values = {key: _scalar(record.get(key)) for key in BY_KEY}
            values["ref"] = _scalar(record.get("id"))
            yield SourceRow(SHEET, number, values, {}, extra={k: record.get(k) for k in PHONE_FIELDS})


def _scalar(value: object) -> object:
    return value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None


def phone_facts(row: SourceRow, policy: Policy) -> tuple[PhoneFacts, list[RowError]]:
    """The record's time, position and photos, each checked; a photo must have been uploaded
    and still be what its hash says."""
    facts, errors = PhoneFacts(), []
    extra = row.extra

    def fail(column: str, message: str, value: object = None) -> None:
        errors.append(RowError(row.sheet, row.row, message, column, None, value))

    if extra.get("captured_at") not in (None, ""):
        facts.captured_at = _instant(extra["captured_at"])
        if facts.captured_at is None:
            fail("captured_at", "记录时间无效", extra["captured_at"])
    if extra.get("position") not in (None, {}):
        facts.position = _position(extra["position"])
        if facts.position is None:
            fail("position", "位置无效(应为纬度、经度)", str(extra["position"])[:60])
    photos = extra.get("photos") or []
    if not isinstance(photos, list):
        fail("photos", "照片列表无效")
        return facts, errors
    if len(photos) > policy.evidence_max_files:
        fail("photos", f"一条记录最多 {policy.evidence_max_files} 张照片,本条有 {len(photos)} 张")
        return facts, errors
    for photo in photos:
        sha256 = str(photo.get("sha256", "")) if isinstance(photo, dict) else ""
        name = str(photo.get("name") or "照片.jpg")[:120] if isinstance(photo, dict) else ""
        if not SHA256.match(sha256):
            fail("photos", "照片标识无效", name or None)
            continue
        path = blob_path(sha256)
        if not path.is_file():
            fail("photos", f"照片「{name}」尚未上传完成,请保持联网后重新同步", name)
            continue
        try:
            upload = check_upload(path, policy, name=name)
        except InvalidInput as exc:
            fail("photos", str(exc), name)
            continue
        if upload.sha256 != sha256 or not upload.media_type.startswith("image/"):
            fail("photos", f"「{name}」不是上传时的那张照片", name)
            continue
        facts.photos.append((upload, _instant(photo.get("taken_at")), _position(photo.get("position"))))
    return facts, errors


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


def _position(value: object) -> tuple[float, float] | None:
    if not isinstance(value, dict):
        return None
    return valid_position(value.get("latitude"), value.get("longitude"))


def phone_sample(session, inspection: Inspection) -> dict:
    """What a phone loads for an inspection: its sampled places, the active items by level (the
    plan workbook's rows are every item at every place of its level), the names a row may use."""
    rows = session.execute(select(InspectionSample).where(InspectionSample.inspection_id == inspection.id)
                           .order_by(InspectionSample.id)).scalars().all()
    villages: dict[int, dict] = {}
    for sample in rows:
        village = sample.village
        entry = villages.setdefault(village.id, {
            "county": village.township.county.name, "township": village.township.name, "village": village.name,
            "latitude": village.latitude, "longitude": village.longitude,
            "unit": village.assisting_unit.name if village.assisting_unit else None, "households": []})
        if sample.household is not None:
            entry["households"].append({"no": sample.household.registry_no, "head": sample.household.head_name})
    items = session.scalars(select(CheckItem).where(CheckItem.active.is_(True)).order_by(CheckItem.code)).all()
    counties = sorted({v["county"] for v in villages.values()} | (
        {inspection.county.name} if inspection.county else set()))
    county_ids = {s.county_id for s in rows} | ({inspection.county_id} if inspection.county_id else set())
    units = session.scalars(select(Unit.name).where((Unit.county_id.in_(county_ids)) | Unit.county_id.is_(None))
                            .order_by(Unit.name)).all()
    leaders = session.scalars(select(User.name).where(User.role == Role.TEAM_LEADER, User.active.is_(True))
                              .order_by(User.name)).all()
    return {
        "inspection": inspection.name, "team": inspection.team or inspection.name,
        "leader": inspection.leader.name if inspection.leader else None,
        "start": inspection.start_date.isoformat() if inspection.start_date else None,
        "counties": counties, "villages": list(villages.values()),
        "items": [{"code": i.code, "title": i.title, "level": i.level.value, "standard": i.standard} for i in items],
        "units": list(units), "leaders": list(leaders),
    }
