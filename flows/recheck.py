"""回头看 and 群众满意度回访 (models.rechecks.FOLLOW_UPS): the `plan-recheck` flow draws a batch and
writes its workbook, for the field team or the phone team; `import-recheck` reads it back and
reopens every problem found again or whose household is 不满意 (反弹), telling its unit through
the next reminder run.

The workbook's sheet (回头看, or 满意度回访) has one row per sampled problem; the team fills the
result (还在 / 已整改, or 满意 / 基本满意 / 不满意) and a note. The batch name sits in the 填写说明
sheet, so the file alone says which batch it answers. An import is all-or-nothing: any bad row
and nothing is written.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from prefect import flow
from prefect.artifacts import create_table_artifact
from sqlalchemy import select

from rectify.flows.context import unit_of_work
from rectify.flows.evidence_store import check_upload, keep
from rectify.flows.intake.workbooks import HEADER_FILL
from rectify.flows.reports.cells import append_row
from rectify.flows.runs import command_run
from rectify.models import lifecycle
from rectify.models.calendar import local_date
from rectify.models.errors import DomainError, ImportRejected, InvalidInput, NotFound
from rectify.models.lookup import get_county, get_user
from rectify.models.places import place_of
from rectify.models.rechecks import (
    BY_LABEL,
    FOLLOW_UPS,
    RECHECK,
    RESULT_LABELS,
    FollowUp,
    ReboundRate,
    Recheck,
    RecheckItem,
    answer,
    draw_recheck,
    rebound_rates,
)

INFO_SHEET = "填写说明"
COMMON = ("问题编号", "地点", "检查项目", "问题描述", "整改措施或现场解决情况", "原责任单位", "销号(解决)日期")
WIDTHS = (16, 36, 14, 40, 40, 24, 14, 12, 40)
RESULT_COLUMN, NOTE_COLUMN = len(COMMON), len(COMMON) + 1


def headers(spec: FollowUp) -> tuple[str, ...]:
    return (*COMMON, spec.result_header, spec.note_header)


def parse_share(text: str) -> float:
    """"10%", "10" or "0.1" → 0.1."""
    raw = text.strip().rstrip("%").strip()
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"抽取比例「{text}」无效,应写成 10% 这样的百分比") from None
    share = value / 100 if text.strip().endswith("%") or value > 1 else value
    if not 0 < share <= 1:
        raise InvalidInput(f"抽取比例「{text}」须在 0 到 100% 之间")
    return share


@dataclass
class RecheckPlan:
    name: str
    out: Path
    sampled: int
    per_county: dict[str, int] = field(default_factory=dict)
    reused: bool = False


@flow(name="plan-recheck")
def plan_recheck_flow(name: str, share: float, seed: int, out: Path, now: datetime, actor: str,
                      counties: list[str] | None = None, kind: str = RECHECK) -> RecheckPlan | str:
    """The plan, or the refusal's message (a refusal is the user's answer, not a crash)."""
    try:
        plan = _plan(name, share, seed, out, now, actor, counties, kind)
    except DomainError as exc:
        return str(exc)
    create_table_artifact([{"县(市)": c, "抽取问题数": n} for c, n in plan.per_county.items()],
                          key="plan-recheck-summary",
                          description=f"{FOLLOW_UPS[kind].title}「{name}」抽取 {plan.sampled} 个问题")
    return plan


def _plan(name: str, share: float, seed: int, out: Path, now: datetime, actor: str,
          counties: list[str] | None, kind: str = RECHECK) -> RecheckPlan:
    with unit_of_work(now) as ctx:
        s = ctx.session
        user = get_user(s, actor)
        batch = s.scalars(select(Recheck).where(Recheck.name == name)).one_or_none()
        reused = batch is not None
        spec = FOLLOW_UPS[kind]
        if batch is not None:
            if not math.isclose(batch.share, share) or batch.seed != seed or batch.kind != kind:
                raise InvalidInput(f"{FOLLOW_UPS[batch.kind].title}「{name}」已按比例 {batch.share:.0%}、种子 "
                                   f"{batch.seed} 抽取过;要重新抽取请换一个名称")
        else:
            county_ids = [get_county(s, c).id for c in counties or ()]
            drawn = draw_recheck(s, share=share, seed=seed, county_ids=county_ids, kind=kind)
            if not drawn:
                raise InvalidInput(f"没有可{spec.title}的问题({spec.drawn_from})")
            batch = Recheck(name=name, kind=kind, share=share, seed=seed, created_at=ctx.now, created_by_id=user.id)
            s.add(batch)
            s.flush()
            s.add_all(RecheckItem(recheck_id=batch.id, issue_id=i.id, county_id=i.county_id, unit_id=i.unit_id)
                      for i in drawn)
            s.flush()
            s.refresh(batch)
        _write_workbook(batch, out)
        per_county = Counter(item.issue.county.name for item in batch.items)
        return RecheckPlan(name, out, len(batch.items), dict(sorted(per_county.items())), reused)


def _write_workbook(batch: Recheck, out: Path) -> None:
    spec = FOLLOW_UPS[batch.kind]
    how = ("在「回头看」表的「复查结果」列选择 还在 或 已整改,并在「复查说明」写明现场情况;未到现场的行留空。"
           if spec.kind == RECHECK else
           "电话回访每户,在「满意度回访」表的「回访结果」列选择 满意、基本满意 或 不满意,不满意的在「回访说明」"
           "写明原因(将反弹重开);未接通的行留空。")
    workbook = Workbook()
    info = workbook.active
    info.title = INFO_SHEET
    for row in (("批次名称", batch.name), ("类型", spec.title), ("抽取比例", f"{batch.share:.0%}"),
                ("随机种子", batch.seed),
                ("填写方法", how + "填好后在网页「回头看」页上传,或运行 rectify recheck import 本文件 --as 核验人")):
        info.append(row)
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 12, 90
    sheet = workbook.create_sheet(spec.title, 0)
    sheet.append(headers(spec))
    for item in batch.items:
        issue = item.issue
        done = issue.closed_at or issue.resolved_on_site_at
        append_row(sheet, [issue.code, place_of(issue, household=True), issue.check_item.title, issue.description,
                           issue.measures or issue.on_site_note or "", issue.unit.name if issue.unit else "",
                           local_date(done).isoformat() if done else "",
                           RESULT_LABELS.get(item.result or "", None), item.note])
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.cell(row=1, column=index).fill = HEADER_FILL
    letter = get_column_letter(RESULT_COLUMN + 1)
    choice = DataValidation(type="list", formula1=f'"{",".join(spec.labels)}"', allow_blank=True,
                            showErrorMessage=True, error=f"请选择 {' 或 '.join(spec.labels)}",
                            errorTitle=spec.result_header)
    choice.add(f"{letter}2:{letter}{len(batch.items) + 1}")
    sheet.add_data_validation(choice)
    sheet.freeze_panes = "A2"
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)


@dataclass
class RecheckImport:
    name: str
    kind: str = RECHECK
    checked: int = 0
    reopened: list[str] = field(default_factory=list)
    unchanged: int = 0
    unfilled: int = 0
    rates: list[ReboundRate] = field(default_factory=list)


def _where(spec: FollowUp, row: int, column: int, value: object = None) -> str:
    shown = "" if value in (None, "") else f" 值「{value}」"
    return f"工作表「{spec.title}」 第 {row} 行 {get_column_letter(column + 1)}列「{headers(spec)[column]}」{shown}"


def _read(path: Path) -> tuple[FollowUp, str, list[tuple[int, tuple]]]:
    if path.suffix.lower() != ".xlsx" or not path.is_file():
        raise ImportRejected(f"找不到回头看或回访工作簿 {path}(须为 rectify recheck plan 生成的 .xlsx)")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise ImportRejected(f"文件 {path.name} 不是有效的 Excel 工作簿:{exc}") from None
    try:
        spec = next((f for f in FOLLOW_UPS.values() if f.title in workbook.sheetnames), None)
        if spec is None or INFO_SHEET not in workbook.sheetnames:
            raise ImportRejected(f"文件 {path.name} 缺少「回头看」(或「满意度回访」)与「{INFO_SHEET}」工作表,"
                                 "不是回头看或回访工作簿")
        info = {str(r[0]).strip(): r[1] for r in workbook[INFO_SHEET].iter_rows(values_only=True) if r and r[0]}
        name = str(info.get("批次名称") or "").strip()
        rows = list(workbook[spec.title].iter_rows(values_only=True))
    finally:
        workbook.close()
    wanted = headers(spec)
    if not rows or tuple(str(c or "").strip() for c in rows[0][:len(wanted)]) != wanted:
        raise ImportRejected(f"工作表「{spec.title}」第 1 行的表头被改动过,应为:" + "、".join(wanted))
    return spec, name, [(number, tuple(cells) + (None,) * len(wanted))
                        for number, cells in enumerate(rows[1:], start=2)]


def import_recheck(path: Path, now: datetime, actor: str) -> RecheckImport:
    """Record every filled row and reopen the problems found again (or 不满意), or write nothing."""
    spec, name, rows = _read(path)
    with unit_of_work(now) as ctx:
        s = ctx.session
        user = get_user(s, actor)
        batch = s.scalars(select(Recheck).where(Recheck.name == name, Recheck.kind == spec.kind)).one_or_none()
        if batch is None:
            raise NotFound(f"{spec.title}批次", name or "(空)",
                           hint="「填写说明」表的批次名称须与 rectify recheck plan 的一致")
        items = {item.issue.code: item for item in batch.items}
        result = RecheckImport(name, spec.kind)
        errors: list[str] = []
        todo: list[tuple[RecheckItem, str, str]] = []
        for number, cells in rows:
            code = str(cells[0] or "").strip()
            verdict_text = str(cells[RESULT_COLUMN] or "").strip()
            note = str(cells[NOTE_COLUMN] or "").strip()
            if not code and not verdict_text and not note:
                continue
            item = items.get(code)
            if item is None:
                errors.append(f"{_where(spec, number, 0, code)}:不是{spec.title}「{name}」抽取的问题")
                continue
            if not verdict_text:
                result.unfilled += 1
                continue
            verdict = BY_LABEL.get(verdict_text)
            if verdict not in spec.verdicts:
                errors.append(f"{_where(spec, number, RESULT_COLUMN, verdict_text)}:应为 {' 或 '.join(spec.labels)}")
                continue
            if verdict == spec.reopens and not note:
                errors.append(f"{_where(spec, number, NOTE_COLUMN)}:{spec.result_header}为「{verdict_text}」时"
                              f"须写明{spec.note_header}")
                continue
            if item.result is not None:
                if item.result != verdict:
                    errors.append(f"{_where(spec, number, RESULT_COLUMN, verdict_text)}:此前已导入为"
                                  f"「{RESULT_LABELS[item.result]}」,不能改为「{verdict_text}」")
                else:
                    result.unchanged += 1
                continue
            if verdict == spec.reopens and item.issue.status not in lifecycle.MOVES[lifecycle.Action.REOPEN].sources:
                errors.append(f"{_where(spec, number, RESULT_COLUMN, verdict_text)}:问题 {code} 当前状态为"
                              f"「{item.issue.status.label}」,不能按反弹重开")
                continue
            todo.append((item, verdict, note))
        if errors:
            raise ImportRejected(f"{path.name} 有 {len(errors)} 处错误,未写入任何数据:\n" + "\n".join(errors))
        upload = check_upload(path, ctx.policy) if any(v == spec.reopens for _, v, _ in todo) else None
        for item, verdict, note in todo:
            evidence = [upload.row(uploader=user, now=ctx.now)] if upload and verdict == spec.reopens else []
            answer(s, item, verdict, note, actor=user, now=ctx.now, policy=ctx.policy, calendar=ctx.calendar,
                   evidence=evidence)
            result.checked += 1
            if verdict == spec.reopens:
                result.reopened.append(item.issue.code)
        if upload is not None:
            keep(upload)
        s.flush()
        result.rates = rebound_rates(s, batch.id, kind=spec.kind)
    return result


@flow(name="import-recheck")
def import_recheck_flow(path: Path, now: datetime, actor: str) -> RecheckImport | str:
    try:
        result = import_recheck(path, now, actor)
    except DomainError as exc:
        return str(exc)
    title = FOLLOW_UPS[result.kind].title
    create_table_artifact(
        [{"县(市)": r.county, "原责任单位": r.unit, "已答复": r.checked, "反弹": r.still, "反弹率": f"{r.rate:.1%}"}
         for r in result.rates],
        key="import-recheck-summary",
        description=f"{title}「{result.name}」:导入 {result.checked} 个,反弹重开 {len(result.reopened)} 个")
    return result


def run_plan(name: str, share: float, seed: int, out: Path, now: datetime, actor: str,
             counties: list[str] | None = None, kind: str = RECHECK) -> RecheckPlan:
    with command_run("recheck", f"recheck:{name}", *(f"county:{c}" for c in counties or ())):
        return _raise_refusal(plan_recheck_flow(name, share, seed, out, now, actor, counties, kind))


def run_recheck_import(path: Path, now: datetime, actor: str) -> RecheckImport:
    with command_run("recheck"):
        return _raise_refusal(import_recheck_flow(path, now, actor))


def _raise_refusal(outcome):
    if isinstance(outcome, str):
        raise InvalidInput(outcome)
    return outcome

