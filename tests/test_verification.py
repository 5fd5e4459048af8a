"""Closure that can't be faked: evidence rules and storage, the three 纸面销号 warnings, the
回头看 round trip, referrals and the dossier."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from samples import ANALYSIS
from sqlalchemy import func, select
from test_cli_intake import assert_no_traceback_of_ours
from typer.testing import CliRunner
from world import T0, World, at, new_issue, photo, rectifying

from rectify.flows import issue_actions as act
from rectify.flows.cli import app
from rectify.flows.context import unit_of_work
from rectify.flows.evidence_store import evidence_root
from rectify.models.enums import Status
from rectify.models.errors import ImportRejected, InvalidInput
from rectify.models.issues import Evidence, Issue
from rectify.models.org import Unit
from rectify.models.places import County, Township, Village
from rectify.models.referrals import Referral
from rectify.models.suspicion import current_suspicions, normalise_measures, suspicions

runner = CliRunner()
PDF = b"%PDF-1.4 minimal"


def blobs() -> list[Path]:
    root = evidence_root()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def other_place(session, w, *, index: int = 1) -> dict:
    """Another 2016 village of 理塘县 with its first household and its own unit."""
    county = session.scalars(select(County).where(County.name == w.county)).one()
    village = session.scalars(
        select(Village).join(Township).where(Township.county_id == county.id, Village.planned_exit_year == 2016)
        .order_by(Village.id)
    ).all()[index]
    return {"township": village.township.name, "village": village.name,
            "household": village.households[0].registry_no, "unit": village.assisting_unit.name}


def home(w) -> dict:
    return {"township": w.township, "village": w.village, "household": w.household, "unit": w.unit}


def rectifying_at(ctx, w, place: dict, **kw):
    args = {"township": place["township"], "village": place["village"], "household": place["household"], **kw}
    issue = new_issue(ctx, w, **args)
    act.assign(ctx, issue.code, actor=w.coordinator, unit=place["unit"])
    act.sign(ctx, issue.code, actor=f"{place['unit']}经办人")
    return issue


# --- evidence --------------------------------------------------------------------------------


def test_disallowed_type_among_good_files_stores_nothing(ctx, world, tmp_path):
    issue = rectifying(ctx, world)
    bad = tmp_path / "macro.exe"
    bad.write_bytes(b"MZ\x90")
    with pytest.raises(InvalidInput, match=r"macro\.exe.*类型"):
        act.submit(ctx, issue.code, actor=world.handler, **ANALYSIS, measures="已加固",
                   evidence=[photo(tmp_path), bad])
    assert blobs() == []
    assert ctx.session.scalar(select(func.count()).select_from(Evidence).where(Evidence.issue_id == issue.id)) == 0
    assert issue.status is Status.RECTIFYING


def test_housing_needs_a_photo_and_a_refusal_stores_nothing(ctx, world, tmp_path):
    issue = rectifying(ctx, world)
    pdf = tmp_path / "验收单.pdf"
    pdf.write_bytes(PDF)
    with pytest.raises(InvalidInput, match="安全住房.*至少 1 张现场照片"):
        act.submit(at(ctx, 5), issue.code, actor=world.handler, **ANALYSIS, measures="已加固", evidence=[pdf])
    assert blobs() == [] and issue.status is Status.RECTIFYING
    act.submit(at(ctx, 5), issue.code, actor=world.handler,
        **ANALYSIS, measures="已加固", evidence=[pdf, photo(tmp_path)])
    assert issue.status is Status.SUBMITTED and len(blobs()) == 2


def test_a_file_is_stored_once_however_often_it_is_used(ctx, world, tmp_path):
    first, second = rectifying(ctx, world), rectifying(ctx, world)
    for issue in (first, second):
        act.submit(at(ctx, 5), issue.code, actor=world.handler,
            **ANALYSIS, measures="已加固", evidence=[photo(tmp_path)])
    assert len(blobs()) == 1
    assert ctx.session.scalar(select(func.count(func.distinct(Evidence.issue_id)))
                              .where(Evidence.sha256 == first.events[-1].evidence[0].sha256)) == 2


def test_an_interrupted_upload_leaves_no_half_file_and_no_record(fresh_db, tmp_path, monkeypatch):
    # The world the fixture builds, in a committed database.
    with unit_of_work(T0) as ctx:
        county = ctx.session.scalars(select(County).where(County.name == "理塘县")).one()
        village = ctx.session.scalars(select(Village).join(Township).where(
            Township.county_id == county.id, Village.planned_exit_year == 2016).order_by(Village.id)).first()
        w = World(county=county.name, township=village.township.name, village=village.name,
                  household=village.households[0].registry_no, unit=village.assisting_unit.name,
                  handler=f"{village.assisting_unit.name}经办人", other_handler="")
        code = rectifying(ctx, w).code
    real_replace = os.replace

    def crash(src, dst):
        if ".upload-" in str(src):
            raise OSError("磁盘已满")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    big = photo(tmp_path, "大照片.jpg", b"\xff\xd8\xff" + os.urandom(3 << 20))
    with pytest.raises(OSError, match="磁盘已满"):
        with unit_of_work(T0 + timedelta(days=5)) as ctx:
            act.submit(ctx, code, actor=w.handler, **ANALYSIS, measures="已加固", evidence=[big])
    assert blobs() == []  # neither the blob nor the temporary file
    with unit_of_work(T0) as ctx:
        issue = ctx.session.scalars(select(Issue).where(Issue.code == code)).one()
        assert issue.status is Status.RECTIFYING and issue.measures is None
        assert ctx.session.scalar(select(func.count()).select_from(Evidence)) == 0


# --- warnings ----------------------------------------------------------------------------------


def kinds(session, issue, policy) -> list[str]:
    return sorted(w.kind for w in suspicions(session, issue, policy))


def test_reused_evidence_fires_only_for_the_same_file(ctx, world, tmp_path, policy):
    place = other_place(ctx.session, world)
    mine = rectifying_at(ctx, world, home(world), item="V04", household=None, description="村卫生室无村医")
    theirs = rectifying_at(ctx, world, place, item="V04", household=None, description="村卫生室无村医")
    act.submit(at(ctx, 5), theirs.code, actor=f"{place['unit']}经办人", **ANALYSIS, measures="派驻村医每周坐诊",
               evidence=[photo(tmp_path, "排班.png", b"\x89PNG shared")])
    act.submit(at(ctx, 5), mine.code, actor=world.handler, **ANALYSIS, measures="卫生院医生轮流值守并公示电话",
               evidence=[photo(tmp_path, "a.png", b"\x89PNG mine")])
    assert kinds(ctx.session, mine, policy) == []
    act.return_submission(ctx, mine.code, actor=world.verifier, reason="补充材料")
    assert mine.events[-1].payload["warnings"] == []
    act.submit(at(ctx, 6), mine.code, actor=world.handler, **ANALYSIS, measures="卫生院医生轮流值守并公示电话",
               evidence=[photo(tmp_path, "b.png", b"\x89PNG shared")])
    found = suspicions(ctx.session, mine, policy)
    assert [(w.kind, w.other) for w in found] == [("reused_evidence", theirs.code)]
    assert "b.png" in found[0].message


def test_similar_measures_from_another_place_fire_and_are_recorded(ctx, world, tmp_path, policy):
    place = other_place(ctx.session, world)
    theirs, mine = rectifying_at(ctx, world, place), rectifying(ctx, world)
    act.submit(
        at(ctx, 5),
        theirs.code,
        actor=f"{place['unit']}经办人",
        **ANALYSIS, measures="已完成危房改造,墙体加固到位,经住建局验收合格。",
        evidence=[photo(tmp_path, "x.png", b"\x89PNG 1")],
    )
    act.submit(
        at(ctx, 5),
        mine.code,
        actor=world.handler,
        **ANALYSIS, measures="已完成危房改造 墙体加固到位 经住建局验收合格",
        evidence=[photo(tmp_path, "y.png", b"\x89PNG 2")],
    )
    assert kinds(ctx.session, mine, policy) == ["similar_measures"]
    act.verify(at(ctx, 6), mine.code, actor=world.verifier, note="已核实")
    recorded = mine.events[-1].payload["warnings"]
    assert [(w["kind"], w["other"]) for w in recorded] == [("similar_measures", theirs.code)]
    assert "相似度 100%" in recorded[0]["message"]


def test_different_measures_or_the_same_place_do_not_fire(ctx, world, tmp_path, policy):
    place = other_place(ctx.session, world)
    theirs, mine = rectifying_at(ctx, world, place), rectifying(ctx, world)
    act.submit(
        at(ctx, 5),
        theirs.code,
        actor=f"{place['unit']}经办人",
        **ANALYSIS, measures="已完成危房改造,墙体加固到位,经住建局验收合格。",
        evidence=[photo(tmp_path, "x.png", b"\x89PNG 1")],
    )
    act.submit(at(ctx, 5), mine.code, actor=world.handler,
        **ANALYSIS, measures="拆除旧房,在原址新建砖混结构住房两间,已入住",
               evidence=[photo(tmp_path, "y.png", b"\x89PNG 2")])
    same_place = rectifying(at(ctx, 0), world)
    act.submit(at(ctx, 5), same_place.code, actor=world.handler,
        **ANALYSIS, measures="拆除旧房,在原址新建砖混结构住房两间,已入住",
               evidence=[photo(tmp_path, "z.png", b"\x89PNG 3")])
    assert kinds(ctx.session, mine, policy) == []
    assert kinds(ctx.session, same_place, policy) == []


def test_normalising_ignores_spacing_punctuation_and_width():
    assert normalise_measures("已完成 改造,验收合格!") == normalise_measures("已完成改造,验收合格!")
    assert normalise_measures("ＡＢＣ １２３") == "abc123"


def test_too_fast_fires_for_slow_items_only(ctx, world, tmp_path, policy):
    quick = rectifying(ctx, world)
    act.submit(ctx.__class__(ctx.session, T0 + timedelta(minutes=12)), quick.code, actor=world.handler,
               **ANALYSIS, measures="已加固", evidence=[photo(tmp_path)])
    found = suspicions(ctx.session, quick, policy)
    assert [w.kind for w in found] == ["too_fast"]
    assert "12 分钟" in found[0].message and "3 天" in found[0].message
    slow = rectifying(ctx, world)
    act.submit(
        at(ctx, 4),
        slow.code,
        actor=world.handler,
        **ANALYSIS, measures="已拆除重建",
        evidence=[photo(tmp_path, "s.png", b"\x89PNG s")],
    )
    assert kinds(ctx.session, slow, policy) == []
    paper = rectifying_at(ctx, world, home(world), item="H10", description="明白卡未填写")  # no minimum for 明白卡
    act.submit(ctx.__class__(ctx.session, T0 + timedelta(minutes=5)), paper.code, actor=world.handler,
               **ANALYSIS, measures="已补填明白卡", evidence=[photo(tmp_path, "p.png", b"\x89PNG p")])
    assert kinds(ctx.session, paper, policy) == []


def test_current_suspicions_cover_submitted_and_closed_of_a_county(ctx, world, tmp_path, policy):
    quick = rectifying(ctx, world)
    act.submit(ctx.__class__(ctx.session, T0 + timedelta(minutes=30)), quick.code, actor=world.handler,
               **ANALYSIS, measures="已加固", evidence=[photo(tmp_path)])
    county = ctx.session.scalars(select(County).where(County.name == world.county)).one()
    listed = {i.code: [w.kind for w in ws] for i, ws in current_suspicions(ctx.session, policy, county_id=county.id)}
    assert listed[quick.code] == ["too_fast"]
    other = ctx.session.scalars(select(County).where(County.name != world.county)).first()
    assert quick.code not in {i.code for i, _ in current_suspicions(ctx.session, policy, county_id=other.id)}


# --- referrals -----------------------------------------------------------------------------------


def test_a_problem_reopened_twice_is_referred_once(ctx, world, tmp_path):
    issue = new_issue(ctx, world, on_site="当场解决", cosign=world.team_leader)
    act.reopen(at(ctx, 20), issue.code, actor=world.verifier, reason="反弹", evidence=[photo(tmp_path)])
    referred = select(Referral).where(Referral.issue_id == issue.id)
    assert ctx.session.scalars(referred).all() == []
    act.submit(
        at(ctx, 25),
        issue.code,
        actor=world.handler,
        **ANALYSIS, measures="再次加固",
        evidence=[photo(tmp_path, "2.png", b"\x89PNG 2")],
    )
    act.verify(at(ctx, 26), issue.code, actor=world.verifier, note="ok")
    act.reopen(
        at(ctx, 40),
        issue.code,
        actor=world.verifier,
        reason="再次反弹",
        evidence=[photo(tmp_path, "3.png", b"\x89PNG 3")],
    )
    rows = ctx.session.scalars(referred).all()
    assert [(r.reason, issue.reopen_count) for r in rows] == [("reopened", 2)]


# --- the CLI: recheck round trip, suspicious, referrals, dossier -----------------------------------


def rectify(*args: str, ok: bool = True):
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output + (result.stderr or "")
    return result


def closed_problems(n: int, tmp_path: Path) -> list[str]:
    """n closed 理塘县 problems at different villages, committed."""
    codes = []
    with unit_of_work(T0) as ctx:
        county = ctx.session.scalars(select(County).where(County.name == "理塘县")).one()
        villages = ctx.session.scalars(select(Village).join(Township).where(Township.county_id == county.id)
                                       .order_by(Village.id).limit(n)).all()
        for i, village in enumerate(villages):
            issue = act.record(ctx, actor="督导员14", county="理塘县", township=village.township.name,
                               village=village.name, item="V04", description=f"卫生室无村医 {i}", severity="一般",
                               unit=village.assisting_unit.name)
            codes.append((issue.code, village.assisting_unit.name))
    for i, (code, unit) in enumerate(codes):
        with unit_of_work(T0 + timedelta(days=1)) as ctx:
            act.sign(ctx, code, actor=f"{unit}经办人")
        with unit_of_work(T0 + timedelta(days=3)) as ctx:
            act.submit(
                ctx,
                code,
                actor=f"{unit}经办人",
                **ANALYSIS, measures=f"第{i}号村医已到岗,排班表上墙,群众知晓电话{i * 7919}",
                evidence=[photo(tmp_path, f"{i}.png", b"\x89PNG" + bytes([i]))],
            )
        with unit_of_work(T0 + timedelta(days=4)) as ctx:
            act.verify(ctx, code, actor="核验员01", note="ok")
    return [c for c, _ in codes]


def fill(path: Path, out: Path, verdicts: dict[str, tuple[str, str]]) -> Path:
    workbook = load_workbook(path)
    sheet = workbook["回头看"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in verdicts:
            row[7].value, row[8].value = verdicts[row[0].value]
    workbook.save(out)
    return out


def statuses(codes) -> dict[str, str]:
    with unit_of_work(T0) as ctx:
        return {i.code: i.status.value for i in ctx.session.scalars(select(Issue).where(Issue.code.in_(codes)))}


def test_recheck_round_trip_reopens_exactly_the_rows_marked_still(fresh_db, tmp_path, prefect_harness):
    codes = closed_problems(4, tmp_path)
    plan = tmp_path / "recheck.xlsx"
    rectify("recheck", "plan", "--share", "100%", "--seed", "7", "--out", str(plan), "--name", "第一次回头看",
            "--as", "理塘县督查办", "--as-of", "2016-10-10")
    sheet = load_workbook(plan)["回头看"]
    assert sorted(r[0] for r in sheet.iter_rows(min_row=2, values_only=True)) == sorted(codes)
    a, b, c, d = codes
    filled = fill(plan, tmp_path / "filled.xlsx", {a: ("还在", "村医又不在岗"), b: ("已整改", "正常坐诊"),
                                                   c: ("还在", "排班表已撕掉")})
    result = rectify("recheck", "import", str(filled), "--as", "核验员01", "--as-of", "2016-10-12")
    assert "反弹重开 2 个" in result.stdout and "未填结果 1 个" in result.stdout
    assert statuses(codes) == {a: "rectifying", b: "closed", c: "rectifying", d: "closed"}
    with unit_of_work(T0) as ctx:
        reopened = ctx.session.scalars(select(Issue).where(Issue.code == a)).one()
        assert reopened.reopen_count == 1 and "村医又不在岗" in reopened.events[-1].note
        assert reopened.events[-1].evidence[0].name == "filled.xlsx"
    # The same file again changes nothing; the rates are per county and unit.
    again = rectify("recheck", "import", str(filled), "--as", "核验员01", "--as-of", "2016-10-13")
    assert "反弹重开 0 个" in again.stdout and "此前已导入 3 个" in again.stdout
    rates = json.loads(rectify("recheck", "rates", "--name", "第一次回头看", "--format", "json").stdout)
    assert sum(r["checked"] for r in rates) == 3 and sum(r["still"] for r in rates) == 2


def test_a_bad_recheck_row_is_named_and_nothing_is_written(fresh_db, tmp_path, prefect_harness):
    codes = closed_problems(3, tmp_path)
    plan = tmp_path / "recheck.xlsx"
    rectify("recheck", "plan", "--share", "100%", "--seed", "7", "--out", str(plan), "--as", "理塘县督查办",
            "--as-of", "2016-10-10")
    a, b, c = codes
    filled = fill(plan, tmp_path / "filled.xlsx", {a: ("还在", "仍无村医"), b: ("不清楚", ""), c: ("还在", "")})
    result = rectify("recheck", "import", str(filled), "--as", "核验员01", "--as-of", "2016-10-12", ok=False)
    assert result.exit_code == 1
    rows = {code: n for n, code in enumerate(r[0] for r in load_workbook(plan)["回头看"].iter_rows(values_only=True))}
    message = result.stderr
    assert f"第 {rows[b] + 1} 行 H列「复查结果」 值「不清楚」" in message
    assert f"第 {rows[c] + 1} 行 I列「复查说明」" in message and "未写入任何数据" in message
    assert_no_traceback_of_ours(result)
    assert set(statuses(codes).values()) == {"closed"}


def test_recheck_sampling_is_stratified_and_reproducible(fresh_db, tmp_path, prefect_harness):
    from rectify.flows.recheck import parse_share, run_plan

    closed_problems(6, tmp_path)
    moment = T0 + timedelta(days=30)
    one = run_plan("甲", parse_share("50%"), 11, tmp_path / "1.xlsx", moment, "理塘县督查办")
    two = run_plan("乙", parse_share("50"), 11, tmp_path / "2.xlsx", moment, "理塘县督查办")
    assert one.per_county == two.per_county == {"理塘县": 3}
    codes = [[r[0] for r in load_workbook(p)["回头看"].iter_rows(min_row=2, values_only=True)]
             for p in (one.out, two.out)]
    assert codes[0] == codes[1]
    with pytest.raises(InvalidInput, match="已按比例 50%"):
        run_plan("甲", 0.2, 11, tmp_path / "3.xlsx", moment, "理塘县督查办")
    with pytest.raises(InvalidInput, match="0 到 100%"):
        parse_share("150%")
    with pytest.raises(ImportRejected):
        from rectify.flows.recheck import import_recheck
        import_recheck(tmp_path / "missing.xlsx", moment, "核验员01")


def test_suspicious_referrals_and_dossier_commands(fresh_db, tmp_path):
    with unit_of_work(T0) as ctx:
        unit = ctx.session.scalars(select(Unit).where(Unit.name == "理塘县")).one().name
        code, other = (act.record(ctx, actor="督导员14", county="理塘县", item=item, description="方案未细化",
                                  severity="较重", unit=unit).code for item in ("减贫实施方案", "年度减贫任务分解落实"))
    handler, shared = f"{unit}经办人", photo(tmp_path, "会议纪要.png", b"\x89PNG minutes")

    def step(days: float, fn, *args, **kw):
        with unit_of_work(T0 + timedelta(days=days)) as ctx:
            fn(ctx, *args, **kw)

    step(0.1, act.sign, other, actor=handler)
    step(1, act.submit, other, actor=handler, **ANALYSIS, measures="任务已分解到乡到村", evidence=[shared])
    step(0.1, act.sign, code, actor=handler)
    for n, day in enumerate((2, 4)):  # closed, then found again: twice
        step(day, act.submit, code, actor=handler, **ANALYSIS, measures=f"第{n + 1}次细化方案",
             evidence=[photo(tmp_path, f"{n}.png", bytes([137, 80, n]))])
        step(day + 0.5, act.verify, code, actor="核验员01", note="ok")
        step(day + 1, act.reopen, code, actor="核验员01", reason="回头看发现未落实",
             evidence=[photo(tmp_path, f"r{n}.png", bytes([137, 81, n]))])
    step(7, act.submit, code, actor=handler, **ANALYSIS, measures="第三次细化方案", evidence=[shared])
    listed = json.loads(rectify("suspicious", "--county", "理塘县", "--format", "json").stdout)
    assert sorted((r["code"], r["kind"], r["other"]) for r in listed) == [
        (code, "reused_evidence", other), (other, "reused_evidence", code)]
    refs = json.loads(rectify("referrals", "--format", "json").stdout)
    assert [(r["code"], r["reason"], r["reopen_count"]) for r in refs] == [(code, "reopened", 2)]
    out = tmp_path / "案卷.xlsx"
    rectify("dossier", code, "--out", str(out))
    book = load_workbook(out)
    assert book.sheetnames == ["问题", "处理经过", "佐证材料", "整改前后对照", "核验预警", "问责线索"]
    events = list(book["处理经过"].iter_rows(min_row=2, values_only=True))
    evidence = list(book["佐证材料"].iter_rows(min_row=2, values_only=True))
    assert [row[2] for row in events] == ["登记", "签收", *["申请销号", "核验销号", "反弹重开"] * 2, "申请销号"]
    assert len(evidence) == 5 and all(len(row[6]) == 64 for row in evidence)
    assert {row[2] for row in evidence} == {"整改后", None}  # the unit's files, and the recheck's workbook
    assert [row[2:] for row in book["核验预警"].iter_rows(min_row=2, values_only=True)] == [
        ("佐证材料重复", f"佐证材料「会议纪要.png」与问题 {other} 的材料完全相同(同一文件)", other)]
    assert [row[0] for row in book["问责线索"].iter_rows(min_row=2, values_only=True)] == ["多次反弹"]
    missing = rectify("dossier", "GZ-2016-99999", "--out", str(out), ok=False)
    assert missing.exit_code == 1 and "GZ-2016-99999" in missing.stderr
