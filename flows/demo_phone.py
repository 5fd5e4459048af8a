"""The demo's village recorded the phone way (手机采集): its sample as the capture page loads it,
every check recorded with the phone's time and position, photos of the problems, the batch
imported by the same `import-findings` flow the page's sync runs. Then a unit answers two of
those problems: one with its own 整改后 photo (the verifier sees the pair side by side), one
with the 整改前 photo sent back shrunk by a chat app (照片雷同)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from rich.console import Console
from sqlalchemy import select

from rectify.flows import issue_actions as act
from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.flows.demo_findings import phone_records, site_photo
from rectify.flows.evidence_store import check_upload, keep
from rectify.flows.intake.capture import phone_sample
from rectify.flows.intake.plan import make_plan
from rectify.models.calendar import SHANGHAI
from rectify.models.db import rectify_home
from rectify.models.issues import Issue

PHOTOS_PER_PROBLEM = 2


def run_phone_capture(console: Console, *, county: str, leader: str, plan_day: str, field_day: datetime,
                      import_day: str) -> list[str]:
    """Returns the codes of the problems it recorded now (none when the demo ran before)."""
    from rectify.flows.intake.flow import run_import

    folder = rectify_home() / "demo-phone"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"2016年第一批督导·{county}·手机采集"
    with unit_of_work(parse_instant(plan_day)) as ctx:
        plan = make_plan(ctx, inspection=name, county=county, villages=1, households=3, seed=20,
                         out=folder / "抽样检查表.xlsx", leader=leader)
        sample = phone_sample(ctx.session, plan.inspection)
        policy = ctx.policy
    village = sample["villages"][0]
    here = (village["latitude"], village["longitude"])
    records = phone_records(sample, seed=11, inspector=leader, recorded_at=field_day, prefix="MDEMO01",
                            fail_share=0.12)
    problems = [r for r in records if r["result"] == "不符合"]
    for n, record in enumerate(problems):
        for k in range(PHOTOS_PER_PROBLEM):
            taken = field_day + timedelta(minutes=n * 7 + k)
            path = folder / f"整改前-{record['id']}-{k + 1}.jpg"
            path.write_bytes(site_photo(500 + n * 10 + k, taken=taken, at=here))
            upload = check_upload(path, policy)  # what the page's upload call does
            keep(upload)
            record["photos"].append({"sha256": upload.sha256, "name": path.name, "taken_at": taken.isoformat()})
    batch = folder / "同步数据.json"
    batch.write_text(json.dumps({"inspection": name, "records": records}, ensure_ascii=False), encoding="utf-8")
    report = run_import(batch, name, parse_instant(import_day), actor=leader)
    if report.fatal or report.errors:
        raise RuntimeError(report.fatal or "; ".join(map(str, report.errors[:5])))
    photos = len(problems) * PHOTOS_PER_PROBLEM
    if not report.created:
        console.print(f"手机采集:{village['village']} 的 {len(records)} 项检查此前已同步")
        return []
    console.print(f"手机采集:{village['township']}{village['village']} {len(records)} 项检查(离线记录、联网同步),"
                  f"发现问题 {len(report.created)} 个,整改前照片 {photos} 张;手机上打开 /capture 即可记录,"
                  "见 docs/workbook.md")
    return report.created


def answer_two(console: Console, codes: list[str], *, day: datetime) -> None:
    """The unit of the first assigned phone problem answers it with its own 整改后 photo, and of
    the second with the first photo of its 整改前 sent back through a chat app."""
    import io

    from PIL import Image

    folder = rectify_home() / "demo-phone"
    with unit_of_work(day) as ctx:
        assigned = ctx.session.scalars(select(Issue).where(Issue.code.in_(codes), Issue.unit_id.is_not(None),
                                                           Issue.village_id.is_not(None))
                                       .order_by(Issue.code)).all()[:2]
        plans = []
        for i in assigned:
            assert i.unit is not None and i.village is not None  # assigned, at a village of the sample
            here = (i.village.latitude or 0.0, i.village.longitude or 0.0)
            plans.append((i.code, f"{i.unit.name}经办人", here, [x.sha256 for x in i.evidence]))
    for n, (code, handler, here, before) in enumerate(plans):
        after = folder / f"整改后-{code}.jpg"
        if n == 0:
            after.write_bytes(site_photo(900, taken=(day - timedelta(hours=3)).astimezone(SHANGHAI), at=here))
        else:
            from rectify.flows.evidence_store import blob_path

            with Image.open(blob_path(before[0])) as image:
                out = io.BytesIO()
                image.resize((image.width // 2, image.height // 2)).save(out, "JPEG", quality=45)
            after.write_bytes(out.getvalue())
        with unit_of_work(day) as ctx:
            act.sign(ctx, code, actor=handler)
        with unit_of_work(day + timedelta(minutes=30)) as ctx:
            act.submit(ctx, code, actor=handler, measures="已按要求整改到位,附整改后现场照片", evidence=[after],
                       cause="日常走访不深入,问题未及时发现", spread="已对全村同类情况逐户排查",
                       rules="建立村两委每月入户核查制度")
    if plans:
        console.print(f"手机采集的问题 {plans[0][0]} 已附整改后照片申请销号,核验员在问题页看到整改前后对照"
                      + (f";{plans[1][0]} 交回的是整改前照片的压缩件,提示「照片雷同」" if len(plans) > 1 else ""))
