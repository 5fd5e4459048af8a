"""Plausible SYNTHETIC field results for a plan workbook (the demo and the benchmark use it):
mostly 符合, some 不符合 with a description fitting the item, a few solved on site, a few
典型经验. Seeded, so the same workbook comes out every time."""

from __future__ import annotations

import random
from datetime import date
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
