"""`rectify demo`: a small 2016 campaign walked through every state, on the embedded database."""

from __future__ import annotations

import json
import struct
import zlib
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from rectify.flows import issue_actions as act
from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.flows.demo_phone import answer_two, run_phone_capture
from rectify.models import migrate
from rectify.models.calendar import SHANGHAI
from rectify.models.db import rectify_home
from rectify.models.enums import Status
from rectify.models.issues import Issue
from rectify.models.org import Unit
from rectify.models.places import County, Township, Village
from rectify.seeds.loader import DATA, SeedReport, load_reference
from rectify.seeds.synthetic import load_synthetic

COUNTY = "理塘县"
# The county department that assists (协办) the demo's house rebuilt over the winter.
HOUSING_WORKS = f"{COUNTY}住房和城乡规划建设局"
# The demo's first inspection round: one team per county, as in August 2016.
INSPECTED = ("理塘县", "色达县", "康定市")
PLAN_DAY, FIELD_DAY, IMPORT_DAY = "2016-08-19", date(2016, 8, 20), "2016-08-22 09:00"
# The one moment the demo reports at, on every surface (the end of the campaign's last day);
# `rectify web --as-of 2016-09-30` shows the same.
DEMO_END = "2016-09-30"


def _png(path: Path, seed: int, note: str = "") -> Path:
    """A tiny valid PNG, different per seed (and per note), standing in for a site photo."""
    raw = b"".join(b"\x00" + bytes([(seed * 37 + x) % 256, 80, 120]) * 1 for x in range(4)) * 4
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 16, 8, 2, 0, 0, 0))
    if note:
        png += chunk(b"tEXt", b"Comment\x00" + note.encode())
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


def run_inspections(console: Console) -> None:
    """Plan each county's inspection, fill the field workbook as the team would, import it."""
    from rectify.flows.cli.intake import _print_report
    from rectify.flows.demo_findings import fill_plan
    from rectify.flows.intake.flow import run_import
    from rectify.flows.intake.plan import make_plan

    folder = rectify_home() / "demo-workbooks"
    folder.mkdir(parents=True, exist_ok=True)
    for county in INSPECTED:
        n = _county_index(county)
        name = f"2016年第一批督导·{county}"
        plan_file, filled = folder / f"{county}-抽样检查表.xlsx", folder / f"{county}-检查结果.xlsx"
        with unit_of_work(parse_instant(PLAN_DAY)) as ctx:
            make_plan(ctx, inspection=name, county=county, villages=10, households=10, seed=2016,
                      out=plan_file, leader=f"督导组长{n:02d}")
        fill_plan(plan_file, filled, seed=n, leader=f"督导组长{n:02d}", checked_on=FIELD_DAY,
                  inspector=f"督导员{n:02d}")
        console.rule(f"导入 {filled.name}")
        report = run_import(filled, name, parse_instant(IMPORT_DAY))
        _print_report(report, dry_run=False)
    console.print(f"抽样检查表与填好的结果在 {folder}")


def run_demo(console: Console) -> list[str]:
    migrate.upgrade()
    start = parse_instant("2016-08-22 10:00")
    with unit_of_work(start) as ctx:
        load_reference(ctx.session)
        load_synthetic(ctx.session, SeedReport())
    run_inspections(console)
    by_phone = run_phone_capture(console, county=COUNTY, leader=f"督导组长{_county_index(COUNTY):02d}",
                                 plan_day=PLAN_DAY, field_day=datetime.combine(FIELD_DAY, time(10), SHANGHAI),
                                 import_day=IMPORT_DAY)
    if by_phone:
        answer_two(console, by_phone, day=parse_instant("2016-08-26 16:00"))
    with unit_of_work(start) as ctx:
        county = ctx.session.scalars(select(County).where(County.name == COUNTY)).one()
        villages = list(ctx.session.scalars(
            select(Village).join(Township).where(Township.county_id == county.id,
                                                 Village.planned_exit_year == 2016).order_by(Village.id).limit(3)))
        v1, v2, v3 = villages
        assert v1.assisting_unit and v2.assisting_unit and v3.assisting_unit  # every synthetic village has one
        places = {
            "v1": (v1.township.name, v1.name, v1.households[0].registry_no, v1.assisting_unit.name),
            "v2": (v2.township.name, v2.name, v2.households[0].registry_no, v2.assisting_unit.name),
            "v3": (v3.township.name, v3.name, v3.households[0].registry_no, v3.assisting_unit.name),
        }
        already = ctx.session.scalar(select(func.count()).select_from(Issue).where(
            Issue.county_id == county.id, Issue.inspection_id.is_(None)))
    if already:
        console.print(f"[yellow]{COUNTY} 已有 {already} 个问题(演示已运行过),不再重复登记[/]")
        _report(console)
        write_reports(console)
        show_outbox(console)
        show_web_hint(console, ["州领导13", f"{COUNTY}督查办", "核验员01",
                                *(f"{places[v][3]}经办人" for v in ("v1", "v2", "v3")), f"{places['v2'][3]}负责人",
                                f"{HOUSING_WORKS}经办人"])
        return []
    n = _county_index(COUNTY)
    inspector, leader = f"督导员{n:02d}", f"督导组长{n:02d}"
    coordinator, verifier = f"{COUNTY}督查办", "核验员01"
    evidence_dir = rectify_home() / "demo-evidence"
    evidence_dir.mkdir(parents=True, exist_ok=True)

    def at(days: int, hour: int = 10):
        return start + timedelta(days=days, hours=hour - 10)

    def step(days: int, fn, *args, **kwargs) -> str:
        with unit_of_work(at(days)) as ctx:
            issue = fn(ctx, *args, **kwargs)
            return issue.code

    t1, vil1, hh1, unit1 = places["v1"]
    t2, vil2, hh2, unit2 = places["v2"]
    t3, vil3, _, unit3 = places["v3"]
    h1, h2, h3 = (f"{unit1}经办人", f"{unit2}经办人", f"{unit3}经办人")

    # 1. Housing (三保障): recorded, assigned, signed, submitted, returned, resubmitted, closed.
    housing = step(0, act.record, actor=inspector, county=COUNTY, township=t1, village=vil1, household=hh1,
                   item="安全住房", description="贫困户住房墙体开裂,属C级危房,尚未纳入改造计划",
                   severity="严重")
    step(0, act.assign, housing, actor=coordinator, unit=unit1)
    step(1, act.sign, housing, actor=h1)
    step(2, act.progress, housing, actor=h1, note="已纳入危房改造计划,材料已运抵")
    analysis = {"cause": "前期摸排只看外观,未请专业人员鉴定,漏报C级危房",
                "spread": "对全村同类土木结构住房逐户鉴定,另发现2户,已纳入改造计划",
                "rules": "建立危房动态监测和季度鉴定制度(村规民约第12条),文件见佐证材料"}
    step(3, act.submit, housing, actor=h1, measures="完成墙体加固并验收", **analysis,
         evidence=[_png(evidence_dir / "住房加固.png", 1)])
    step(4, act.return_submission, housing, actor=verifier, reason="照片看不出加固部位,请补充施工前后对比")
    step(5, act.submit, housing, actor=h1, measures="完成墙体加固并验收,补充施工前后对比照片", **analysis,
         evidence=[_png(evidence_dir / "加固前后对比.png", 2)])
    step(6, act.verify, housing, actor=verifier, note="现场核实已加固,销号")

    # 2. Drinking water (三有): solved on the spot, co-signed by the team leader.
    step(0, act.record, actor=inspector, county=COUNTY, township=t1, village=vil1, household=hh1,
         item="安全饮水", description="入户水管接头漏水,取水不便", severity="一般",
         on_site="督导组协调村两委当场更换接头", cosign=leader)

    # 3. Battle map (作战图) in triage, then voided as a duplicate.
    dup = step(0, act.record, actor=inspector, county=COUNTY, township=t2, village=vil2,
               item="作战图", description="村委会未张贴脱贫攻坚作战图", severity="一般")
    step(1, act.void, dup, actor=coordinator, reason="与同村已登记问题重复")

    # 4. Collective economy (五有): assigned, sent back to be re-assigned, extension asked and approved.
    economy = step(0, act.record, actor=inspector, county=COUNTY, township=t2, village=vil2,
                   item="集体经济", description="村集体经济无收入来源,合作社未实际运营", severity="较重")
    step(0, act.assign, economy, actor=coordinator, unit=f"{COUNTY}教育局")
    step(1, act.send_back, economy, actor=f"{COUNTY}教育局经办人", reason="集体经济不属本局职责,应由帮扶单位牵头")
    step(1, act.assign, economy, actor=coordinator, unit=unit2)
    step(2, act.sign, economy, actor=h2)
    step(4, act.request_extension, economy, actor=h2, until=date(2016, 9, 30),
         reason="合作社需召开成员大会,预计9月底完成")
    step(5, act.decide_extension, economy, actor=coordinator, approve=True, note="同意延期")

    # 5. Clinic (五有): closed, then found again in 回头看 and reopened.
    clinic = step(0, act.record, actor=inspector, county=COUNTY, township=t3, village=vil3,
                  item="卫生室", description="村卫生室无村医坐诊", severity="较重", unit=unit3)
    step(1, act.sign, clinic, actor=h3)
    step(3, act.submit, clinic, actor=h3, measures="乡卫生院派驻村医每周坐诊三天", cause="村医外出务工后无人接替",
         evidence=[_png(evidence_dir / "坐诊排班表.png", 3)])
    step(4, act.verify, clinic, actor=verifier, note="排班表已上墙,销号")
    step(30, act.reopen, clinic, actor=verifier, reason="回头看发现村医已连续两周未坐诊",
         evidence=[_png(evidence_dir / "回头看.png", 4)])

    # 6. County plan (减贫任务): assigned to the county and left open, so it runs overdue.
    plan = step(0, act.record, actor=inspector, county=COUNTY, item="减贫实施方案",
                 description="减贫实施方案未细化到村到户", severity="较重", unit=COUNTY)
    step(10, act.escalate, plan, actor=coordinator, level="黄牌", note="逾期未签收")

    # 7. Paper closures (纸面销号) the verifier is warned of: another household's housing problem
    # submitted with the same photo and nearly the same words, returned; a water connection
    # submitted twenty minutes after assignment, left for the verifier.
    copied = step(0, act.record, actor=inspector, county=COUNTY, township=t2, village=vil2, household=hh2,
                  item="安全住房", description="住房屋顶漏雨,墙体有裂缝", severity="严重", unit=unit2)
    step(1, act.sign, copied, actor=h2)
    step(5, act.submit, copied, actor=h2, measures="完成墙体加固并验收,补充施工前后对比照片。", **analysis,
         evidence=[evidence_dir / "加固前后对比.png"])
    step(6, act.return_submission, copied, actor=verifier,
         reason="佐证照片与其他户完全相同、整改措施雷同,请提供本户的现场照片")
    water = step(7, act.record, actor=inspector, county=COUNTY, township=t3, village=vil3,
                 item="通水", description="村内集中供水点停水一周", severity="较重")
    for minutes, fn, kwargs in ((0, act.assign, {"actor": coordinator, "unit": unit3}), (10, act.sign, {"actor": h3}),
                                (20, act.submit, {"actor": h3, "measures": "已恢复供水", "cause": "水泵老化",
                                                  "evidence": [_png(evidence_dir / "供水点.png", 5)]})):
        with unit_of_work(at(7) + timedelta(minutes=minutes)) as ctx:
            fn(ctx, water, **kwargs)

    # 8. A house rebuilt over a season (主办 / 协办, 暂缓整改): led by the village's 帮扶单位 with the
    # county's 住建局 assisting; building stops for the plateau's winter, so the unit asks for a
    # pause until April, which the 督查办 approves (flagged: longer than the policy's 60 working days).
    rebuild = step(0, act.record, actor=inspector, county=COUNTY, township=t1, village=vil1,
                   household=places["v1"][2], item="安全住房", description="土木结构住房需拆除重建,尚未开工",
                   severity="较重", unit=unit1, deadline=date(2016, 10, 31))
    step(0, act.set_assists, rebuild, actor=coordinator, units=[HOUSING_WORKS])
    step(1, act.sign, rebuild, actor=h1)
    step(3, act.progress, rebuild, actor=f"{HOUSING_WORKS}经办人", note="已完成重建户型设计和预算审核")
    step(8, act.request_pause, rebuild, actor=h1, until=date(2017, 4, 10),
         reason="高原冬季低温,11月至次年3月无法施工;建材已备齐,开春即复工")
    step(9, act.decide_pause, rebuild, actor=coordinator, approve=True, note="同意暂缓至开春,期间做好备料")

    # 9. The unit head's sign-off (单位负责人审核): the policy sends a grave problem's submission to
    # its unit's head first. The second unit has one: the head returns the first submission inside
    # the unit, and the second waits for the head's approval (the head's login has it to do).
    head2 = _unit_head(unit2, at(0))
    water_home = step(1, act.record, actor=inspector, county=COUNTY, township=t2, village=vil2, household=hh2,
                      item="安全饮水", description="户内无安全饮用水,需到两公里外背水", severity="严重", unit=unit2)
    step(2, act.sign, water_home, actor=h2)
    piped = {"cause": "入户管网规划时漏掉了山坡上的散居户",
             "spread": "排查全村散居户12户,另有1户未通水,已一并接通",
             "rules": "建立散居户饮水安全台账,每季度入户核查一次"}
    step(4, act.submit, water_home, actor=h2, measures="新铺设入户管道300米,接通自来水", **piped,
         evidence=[_png(evidence_dir / "入户水管.png", 6)])
    step(5, act.head_return, water_home, actor=head2, reason="缺少水质检测报告,补充后再报")
    step(6, act.submit, water_home, actor=h2, measures="新铺设入户管道300米,接通自来水;水质检测合格", **piped,
         evidence=[_png(evidence_dir / "入户水管.png", 6), _png(evidence_dir / "水质检测报告.png", 7)])

    # 10. A house rebuilt in stages (阶段性整改): the 督查办 splits it into 拆除旧房, 主体完工 and
    # 竣工入住; the first is reported and verified, so the problem shows 阶段性完成 1/3.
    staged = step(2, act.record, actor=inspector, county=COUNTY, township=t3, village=vil3,
                  household=places["v3"][2], item="安全住房", description="土坯房年久失修,需拆除重建",
                  severity="较重", unit=unit3)
    step(3, act.sign, staged, actor=h3)
    step(3, act.set_stages, staged, actor=coordinator,
         stages=[(date(2016, 9, 5), "拆除旧房"), (date(2016, 9, 23), "主体完工"), (date(2016, 10, 31), "竣工入住")])
    step(11, act.submit_stage, staged, actor=h3, note="旧房已拆除,建材已运抵",
         evidence=[_png(evidence_dir / "旧房拆除.png", 8)])
    step(12, act.decide_stage, staged, actor=verifier, approve=True, note="现场核实旧房已拆除")

    simulate_campaign(console, evidence_dir, verifier)
    run_recheck(console, verifier, coordinator)
    run_callback(console, verifier)
    something_to_sign(unit1, inspector, coordinator, t1, vil1)
    set_demo_passwords(["州领导13", coordinator, verifier, h1, h2, head2, h3, f"{HOUSING_WORKS}经办人"])
    _report(console)
    write_reports(console)
    show_outbox(console)
    console.print(f"用 rectify issue show {housing} 查看一个问题的全部经过;rectify suspicious 列出纸面销号预警;"
                  f"rectify referrals 列出问责线索。数据在 {rectify_home()}")
    show_web_hint(console, ["州领导13", coordinator, verifier, h1, h2, head2, h3, f"{HOUSING_WORKS}经办人"])
    return [housing, economy, clinic, plan, dup, copied, water, rebuild, water_home, staged]


def _unit_head(unit: str, moment: datetime) -> str:
    """The unit's head (单位负责人), a synthetic user like the rest; its name."""
    from rectify.models.accounts import add_user, set_unit_head
    from rectify.models.enums import Role
    from rectify.models.lookup import get_unit

    name = f"{unit}负责人"
    with unit_of_work(moment) as ctx:
        set_unit_head(add_user(ctx.session, name, role=Role.UNIT, unit=get_unit(ctx.session, unit)), True)
    return name


RECHECK_DAY = "2016-09-19 10:00"
DEMO_PASSWORD = "rectify2016"


def set_demo_passwords(names: list[str]) -> None:
    """Web logins for the demo's people (synthetic users only ever get this shared password)."""
    from rectify.models.accounts import set_password
    from rectify.models.lookup import get_user

    with unit_of_work(parse_instant(RECHECK_DAY)) as ctx:
        for name in names:
            set_password(get_user(ctx.session, name), DEMO_PASSWORD)


def something_to_sign(unit: str, inspector: str, coordinator: str, township: str, village: str) -> None:
    """On the demo's last morning, a new assignment for the first unit, unless it has one waiting:
    its login then has a problem to sign for."""
    from rectify.models.lookup import get_unit

    with unit_of_work(parse_instant(f"{DEMO_END} 09:00")) as ctx:
        waiting = ctx.session.scalar(select(func.count()).select_from(Issue).where(
            Issue.unit_id == get_unit(ctx.session, unit).id, Issue.status == Status.ASSIGNED))
        if not waiting:
            act.record(ctx, actor=inspector, county=COUNTY, township=township, village=village, item="V10",
                       description="村级脱贫攻坚作战图未更新到九月", severity="一般", unit=unit)


def next_step(session, user) -> tuple[str, str]:
    """A problem `user` can act on at the demo's end, and what to do with it there."""
    from rectify.models.enums import Role

    wanted = {Role.UNIT: ([(Status.REVIEWING, "单位负责人审核销号申请")] if user.unit_head else []) + [
        (Status.ASSIGNED, "签收"), (Status.RECTIFYING, "报告进展或提交整改")],
              Role.COORDINATOR: [(Status.TRIAGE, "交办给责任单位"), (Status.RECTIFYING, "提级督办")],
              Role.VERIFIER: [(Status.SUBMITTED, "核验:销号或退回")]}.get(user.role, [])
    for status, what in wanted:
        query = select(Issue.code).where(Issue.status == status).order_by(Issue.code).limit(1)
        if user.role is Role.UNIT:
            query = query.where(Issue.unit_id == user.unit_id)
        elif user.role is Role.COORDINATOR and user.unit is not None and user.unit.county_id is not None:
            query = query.where(Issue.county_id == user.unit.county_id)
        code = session.scalar(query)
        if code:
            return code, what
    if user.role is Role.UNIT:  # a problem it assists (协办): it reports progress there
        from rectify.models.enums import OPEN_STATUSES
        from rectify.models.issues import IssueAssist

        code = session.scalar(select(Issue.code).join(IssueAssist, IssueAssist.issue_id == Issue.id)
                              .where(IssueAssist.unit_id == user.unit_id, Issue.status.in_(OPEN_STATUSES))
                              .order_by(Issue.code).limit(1))
        if code:
            return code, "协办:报告进展"
    return "", "领导看板:全州与各县的整改率、排名" if user.role is Role.LEADER else "暂无待办"


def show_web_hint(console: Console, names: list[str]) -> None:
    from rectify.models.lookup import get_user

    home = rectify_home()
    console.rule("接下来看哪里")
    console.print(f"网页:运行 [bold].venv/bin/rectify web --as-of {DEMO_END}[/] 后打开 http://127.0.0.1:8000/ ,"
                  f"用下表任一用户登录,密码均为 [bold]{DEMO_PASSWORD}[/]:")
    table = Table("角色", "登录名", "现在可以处理的问题", "在网页上做什么")
    with unit_of_work(parse_instant(DEMO_END)) as ctx:
        for name in dict.fromkeys(names):  # two villages may share a unit
            user = get_user(ctx.session, name)
            code, what = next_step(ctx.session, user)
            table.add_row("单位负责人" if user.unit_head else user.role.label, name, code or "—", what)
    console.print(table)
    console.print(f"整改台账与反馈意见:{home / 'demo-reports'};周通报:{home / 'bulletins'}")
    console.print(f"发件箱(未配置渠道时每条提醒、通报的内容):{home / 'outbox'}")
    console.print("Prefect 界面:演示的运行在临时服务器上;运行 [bold].venv/bin/rectify serve[/] 后打开 "
                  "http://127.0.0.1:4200/ ,计划任务与每个问题的事件都在那里")


def run_recheck(console: Console, verifier: str, coordinator: str) -> None:
    """回头看 in 理塘县: a 10% sample of the closed and on-site problems; the team finds two again."""
    from openpyxl import load_workbook

    from rectify.flows.recheck import run_plan, run_recheck_import

    folder = rectify_home() / "demo-workbooks"
    plan = run_plan(f"2016年回头看·{COUNTY}", 0.1, 2016, folder / f"{COUNTY}-回头看.xlsx",
                    parse_instant(RECHECK_DAY), coordinator, [COUNTY])
    workbook = load_workbook(plan.out)
    sheet = workbook["回头看"]
    for n, row in enumerate(sheet.iter_rows(min_row=2)):
        row[7].value, row[8].value = ("还在", "复查时问题再次出现(演示)") if n < 2 else ("已整改", "已核实")
    filled = folder / f"{COUNTY}-回头看-已填.xlsx"
    workbook.save(filled)
    result = run_recheck_import(filled, parse_instant(RECHECK_DAY), verifier)
    console.print(f"回头看:抽取 {plan.sampled} 个已销号/现场解决的问题,反弹重开 {len(result.reopened)} 个"
                  f"({'、'.join(result.reopened)});工作簿 {filled}")


def run_callback(console: Console, verifier: str) -> None:
    """群众满意度回访 in 理塘县: a quarter of the closed household-level problems called back; one
    household is not satisfied (its problem reopens), the others satisfied or fairly so."""
    from openpyxl import load_workbook

    from rectify.flows.recheck import run_plan, run_recheck_import
    from rectify.models.rechecks import CALLBACK

    folder = rectify_home() / "demo-workbooks"
    plan = run_plan(f"2016年满意度回访·{COUNTY}", 0.25, 2016, folder / f"{COUNTY}-满意度回访.xlsx",
                    parse_instant(RECHECK_DAY), verifier, [COUNTY], kind=CALLBACK)
    workbook = load_workbook(plan.out)
    sheet = workbook["满意度回访"]
    for n, row in enumerate(sheet.iter_rows(min_row=2)):
        row[7].value, row[8].value = (("不满意", "户主反映屋顶雨天仍渗水(演示)") if n == 0
                                      else ("满意", None) if n % 3 else ("基本满意", "希望再看看排水"))
    filled = folder / f"{COUNTY}-满意度回访-已填.xlsx"
    workbook.save(filled)
    result = run_recheck_import(filled, parse_instant(RECHECK_DAY), verifier)
    content = sum(r.checked - r.still for r in result.rates)
    console.print(f"满意度回访:抽取 {plan.sampled} 户,满意或基本满意 {content} 户,不满意反弹重开 "
                  f"{len(result.reopened)} 个({'、'.join(result.reopened)});工作簿 {filled}")


CAMPAIGN = (date(2016, 8, 23), date(2016, 9, 30))
# What units write when they submit, in three parts drawn at random (synthetic, like the rest).
MEASURES = (
    (
        "单位主要负责人带队入村核实",
        "驻村工作队逐户走访",
        "会同乡镇干部现场查看",
        "组织村两委专题研究",
        "包村干部逐项对照标准自查",
        "请县级主管部门派员指导",
        "召开院坝会听取群众意见",
        "对照反馈问题清单逐条梳理",
    ),
    (
        "落实整改资金并完成施工",
        "补齐缺失资料并归档",
        "更换损坏设施并试运行",
        "完善制度并张贴上墙",
        "建立台账并明确专人负责",
        "协调供货并完成安装",
        "开展专题培训并签到留痕",
        "落实帮扶措施并签字确认",
    ),
    (
        "经乡镇复核达到标准",
        "群众签字认可",
        "已拍照留存备查",
        "纳入月度督查回访",
        "整改前后对比照片已上传",
        "相关票据已归档",
        "村民代表现场见证",
        "已在村务公开栏公示",
    ),
)


# 原因分析, 举一反三, 建章立制 as units write them (the policy asks for the cause on every problem,
# for all three on a grave one).
ANALYSES = {
    "cause": ("前期排查不细,问题未及时发现", "责任落实不到位,包村干部未逐户核实", "资金到位滞后,施工进度慢",
              "政策宣传不到位,群众知晓率低", "台账资料管理不规范"),
    "spread": ("对全村同类问题逐户排查,未发现新问题", "对全乡同类点位开展拉网式排查,发现2处已一并整改",
               "举一反三排查帮扶联系村,建立问题清单"),
    "rules": ("建立问题排查月报制度", "完善包村干部责任清单和考核办法", "建立整改台账,实行销号管理"),
}


def simulate_campaign(console: Console, evidence_dir: Path, verifier: str) -> None:
    """August and September 2016, one working day at a time: the imported problems' units sign,
    rectify and submit (each with its own site photo), the verifier closes or returns, and
    send-reminders runs every morning, escalating what runs late. Seeded: the same every time."""
    import random

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rectify.flows.reminders import run_flow
    from rectify.models.errors import DomainError

    rng = random.Random(2016)
    with unit_of_work(parse_instant("2016-08-23")) as ctx:
        days = [d for d in (CAMPAIGN[0] + timedelta(n) for n in range((CAMPAIGN[1] - CAMPAIGN[0]).days + 1))
                if ctx.calendar.is_workday(d)]
    steps: Counter[str] = Counter()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("模拟 8—9 月:每日提醒、单位整改、核验", total=len(days))
        for day in days:
            morning = datetime.combine(day, time(8, 30), SHANGHAI)
            summary = run_flow(morning)
            steps["升级"] += sum(summary.escalated.values())
            with unit_of_work(morning) as ctx:
                open_now = ctx.session.execute(
                    select(Issue.code, Issue.status, Unit.name).join(Unit, Unit.id == Issue.unit_id)
                    .where(Issue.inspection_id.is_not(None), Issue.status.in_(
                        [Status.ASSIGNED, Status.RECTIFYING, Status.SUBMITTED])).order_by(Issue.id)).all()
            step: Callable[..., Issue]
            args: dict[str, Any]
            for n, (code, status, unit) in enumerate(open_now):
                moment = morning + timedelta(hours=1, minutes=n % 300)
                handler = f"{unit}经办人"
                if status is Status.ASSIGNED and rng.random() < 0.45:
                    step, args = act.sign, {"actor": handler}
                elif status is Status.RECTIFYING and rng.random() < 0.12:
                    photo = _png(evidence_dir / f"{code}-整改后.png", n, note=code)
                    step, args = act.submit, {"actor": handler, "evidence": [photo],
                                              "measures": ";".join(rng.choice(pool) for pool in MEASURES),
                                              **{k: rng.choice(pool) for k, pool in ANALYSES.items()}}
                elif status is Status.SUBMITTED and rng.random() < 0.6:
                    if rng.random() < 0.15:
                        step, args = act.return_submission, {"actor": verifier, "reason": "佐证材料不足,请补充"}
                    else:
                        step, args = act.verify, {"actor": verifier, "note": "现场核实,同意销号"}
                else:
                    continue
                try:
                    with unit_of_work(moment) as ctx:
                        step(ctx, code, **args)
                    steps[step.__name__] += 1
                except DomainError:
                    steps["拒绝"] += 1  # e.g. a verifier of the problem's own unit: another one will do it
            progress.advance(task)
    console.print(f"模拟 {len(days)} 个工作日:签收 {steps['sign']},申请销号 {steps['submit']},"
                  f"核验销号 {steps['verify']},退回 {steps['return_submission']},自动升级 {steps['升级']}")


def show_outbox(console: Console) -> None:
    """With no channel configured, every digest lands in the outbox as a Markdown file, so the
    demo shows what each unit and leader would receive."""
    outbox = rectify_home() / "outbox"
    files = sorted(outbox.rglob("*.md"))
    console.print(f"发件箱 {outbox}:{len(files)} 份消息(未配置通知渠道时写入此处;配置方法见 docs/channels.md)")
    # A unit's digest with the most to act on: what a 帮扶单位 finds on its phone.
    digests = [(f.read_text(encoding="utf-8"), f) for f in files if "领导" not in f.name and "周通报" not in f.name]
    sample = max(digests, key=lambda d: d[0].count("\n- "))[1] if digests else (files[0] if files else None)
    if sample is not None:
        console.rule(f"示例:{sample.relative_to(outbox)}")
        console.print(sample.read_text(encoding="utf-8")[:1500], markup=False)


def write_reports(console: Console) -> None:
    """The county ranking, the 整改台账, a feedback report, the 整改情况报告 (公文, .docx) and the
    weekly bulletin, and where they are."""
    from rectify.flows.cli.report import By, ReportFormat, report
    from rectify.flows.reports.bulletin import run_bulletin
    from rectify.flows.reports.feedback import write_feedback
    from rectify.flows.reports.ledger import write_ledger
    from rectify.flows.reports.official import Clock
    from rectify.flows.reports.official import report as official_report
    from rectify.models.lookup import get_county, get_inspection

    folder = rectify_home() / "demo-reports"
    folder.mkdir(parents=True, exist_ok=True)
    report(by=By.county, county=None, since=None, fmt=ReportFormat.table, out=None, as_of=DEMO_END)
    moment = parse_instant(DEMO_END)
    with unit_of_work(moment) as ctx:
        ledger = write_ledger(ctx.session, folder / "整改台账.xlsx", now=moment, calendar=ctx.calendar,
                              policy=ctx.policy)
        feedback = folder / f"反馈意见-{COUNTY}.md"
        write_feedback(ctx.session, get_inspection(ctx.session, f"2016年第一批督导·{COUNTY}"), feedback,
                       now=moment, calendar=ctx.calendar, policy=ctx.policy)
        written = official_report(ctx.session, folder / f"整改情况报告-{COUNTY}.docx",
                                  clock=Clock(moment, ctx.calendar, ctx.policy), county=get_county(ctx.session, COUNTY))
    bulletin = run_bulletin(moment)
    console.print(f"整改台账:{ledger.path}")
    console.print(f"反馈意见:{feedback}")
    console.print(f"整改情况报告(公文):{written.path}(发文字号 {written.reference})")
    console.print(f"周通报:{bulletin.markdown}、{bulletin.workbook} 与 {bulletin.document}"
                  f"(已送达 {bulletin.sent} 位领导,无渠道者在发件箱)")


def _report(console: Console) -> None:
    console.rule(f"演示完成:2016 年第一批督导(截至 {DEMO_END})")
    with unit_of_work(parse_instant(DEMO_END)) as ctx:
        counts = ctx.session.execute(
            select(County.name, Issue.status, func.count()).join(County).where(County.name.in_(INSPECTED))
            .group_by(County.name, Issue.status)
        ).tuples().all()
        walked = ctx.session.scalars(
            select(Issue).join(County).where(County.name == COUNTY, Issue.inspection_id.is_(None)).order_by(Issue.id)
        ).all()
        steps = Table(title=f"{COUNTY}:逐步走完各状态的 {len(walked)} 个问题")
        for label in ("问题编号", "状态", "检查项目", "责任单位", "整改时限", "督办"):
            steps.add_column(label)
        for issue in walked:
            steps.add_row(issue.code, issue.status.label, issue.check_item.title, issue.unit.name if issue.unit else "",
                          str(issue.deadline or ""), issue.supervision.label)
    console.print(steps)
    summary = Table(title="各县各状态问题数")
    summary.add_column("县(市)")
    for status in Status:
        summary.add_column(status.label, justify="right")
    per = {(c, s): n for c, s, n in counts}
    for county in INSPECTED:
        summary.add_row(county, *[str(per.get((county, status), 0)) for status in Status])
    console.print(summary)


def _county_index(name: str) -> int:
    data = json.loads((DATA / "counties.json").read_text(encoding="utf-8"))
    return [c["name"] for c in data].index(name) + 1
