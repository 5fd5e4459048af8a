"""Plausible SYNTHETIC field results for a plan workbook (the demo and the benchmark use it):
mostly 符合, some 不符合 with a description fitting the item, a few solved on site, a few
典型经验. Seeded, so the same workbook comes out every time. The same for a capture page's
records (phone_records)."""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from rectify.flows.intake.columns import INSTRUCTION_SHEETS, column_key

PROBLEMS = {
    "就业和经济收入": "家庭人均纯收入测算依据不全,务工收入无佐证",
    "不愁吃": "存粮不足,未落实临时救助",
    "不愁穿": "冬季御寒衣被不足",
    "基础教育": "适龄儿童辍学,劝返工作未落实",
    "基本医疗": "未参加新农合,慢病签约服务未落实",
    "安全住房": "住房墙体开裂,属C级危房,尚未纳入改造计划",
    "安全饮水": "入户水管冬季冻裂,取水不便",
    "生活用电": "入户线路老化,存在安全隐患",
    "广播电视": "户户通设备损坏未维修",
    "明白卡": "明白卡未张贴,帮扶措施填写不全",
    "帮扶责任落实": "帮扶责任人半年未入户",
    "群众满意度": "群众对帮扶措施知晓率低",
}
GENERIC = "资料不完整,与实际情况不符"
GOOD = "建立“一户一策”帮扶台账,图文并茂,值得推广"


def fill_plan(path: Path, out: Path, *, seed: int, leader: str, checked_on: date, inspector: str,
              fail_share: float = 0.08) -> dict[str, int]:
    """Write `out`: the plan at `path` with every result filled in; returns counts per result."""
    rng = random.Random(seed)
    workbook = load_workbook(path)
    counts = {"符合": 0, "不符合": 0, "典型经验": 0, "现场解决": 0}
    for sheet in workbook.worksheets:
        if sheet.title in INSTRUCTION_SHEETS:
            continue
        columns = {column_key(c.value): c.column for c in sheet[1] if column_key(c.value)}
        for row in range(2, sheet.max_row + 1):
            def put(key: str, value: object, sheet=sheet, columns=columns, row: int = row) -> None:
                sheet.cell(row=row, column=columns[key], value=value)

            put("checked_on", checked_on)
            put("inspector", inspector)
            draw = rng.random()
            if draw < fail_share:
                title = str(sheet.cell(row=row, column=columns["item"]).value).split(" ", 1)[-1]
                put("result", "不符合")
                put("description", PROBLEMS.get(title, f"{title}{GENERIC}"))
                put("severity", rng.choices(["一般", "较重", "严重"], weights=[6, 3, 1])[0])
                if rng.random() < 0.2:
                    put("on_site", "是")
                    put("on_site_note", "督导组现场督促村两委当场整改到位")
                    put("leader", leader)
                    counts["现场解决"] += 1
                else:
                    put("on_site", "否")
                counts["不符合"] += 1
            elif draw < fail_share + 0.01:
                put("result", "典型经验")
                put("description", GOOD)
                counts["典型经验"] += 1
            else:
                put("result", "符合")
                counts["符合"] += 1
    workbook.save(out)
    return counts


def phone_records(sample: dict, *, seed: int, inspector: str, recorded_at: datetime, prefix: str,
                  fail_share: float = 0.08) -> list[dict]:
    """Every check of a capture page's sample (flows/intake/capture.phone_sample) recorded as the
    page records it: the phone's time and the village's position, mostly 符合, some 不符合."""
    rng = random.Random(seed)
    records: list[dict] = []

    def add(place: dict, item: dict, household: dict | None = None) -> None:
        record = {"id": f"{prefix}-{len(records) + 1:04d}", "county": place["county"],
                  "township": place.get("township", ""), "village": place.get("village", ""), "item": item["code"],
                  "team": sample["team"], "inspector": inspector, "checked_on": recorded_at.date().isoformat(),
                  "captured_at": recorded_at.isoformat(), "result": "符合", "photos": []}
        if place.get("latitude") is not None:
            record["position"] = {"latitude": place["latitude"], "longitude": place["longitude"]}
        if household is not None:
            record["household_no"], record["household_head"] = household["no"], household["head"]
        if rng.random() < fail_share:
            record.update(result="不符合", description=PROBLEMS.get(item["title"], f"{item['title']}{GENERIC}"),
                          severity=rng.choices(["一般", "较重", "严重"], weights=[6, 3, 1])[0], on_site="否")
        records.append(record)

    items = {level: [i for i in sample["items"] if i["level"] == level] for level in ("county", "village", "household")}
    for county in sample["counties"]:
        for item in items["county"]:
            add({"county": county}, item)
    for village in sample["villages"]:
        for item in items["village"]:
            add(village, item)
        for household in village["households"]:
            for item in items["household"]:
                add(village, item, household)
    return records


def site_photo(seed: int, *, taken: datetime | None = None, at: tuple[float, float] | None = None,
               size: tuple[int, int] = (640, 480), quality: int = 90) -> bytes:
    """A SYNTHETIC site photo: blocks of colour placed by `seed` (two seeds give unrelated
    pictures), as a JPEG with the EXIF a phone writes: `taken` (its local time, with its
    offset when it has one) and `at` (latitude, longitude)."""
    import io

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(12):
        x, y = rng.randrange(w), rng.randrange(h)
        draw.rectangle((x, y, x + rng.randrange(w // 8, w // 2), y + rng.randrange(h // 8, h // 2)),
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(0x8769)[36867] = taken.strftime("%Y:%m:%d %H:%M:%S")
        offset = taken.utcoffset()
        if offset is not None:
            minutes = int(offset.total_seconds() // 60)
            sign = "+" if minutes >= 0 else "-"
            exif.get_ifd(0x8769)[36881] = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if at is not None:
        exif.get_ifd(0x8825).update({1: "N" if at[0] >= 0 else "S", 2: _dms(abs(at[0])),
                                     3: "E" if at[1] >= 0 else "W", 4: _dms(abs(at[1]))})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 2)
