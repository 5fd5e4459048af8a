"""One problem's whole case for the discipline office (问责): the problem, every event, every
piece of evidence with its hash and where it is stored, the warnings verifiers saw, and the
referrals. Household heads appear in full: the dossier goes to the discipline office only."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from rectify.flows.evidence_store import blob_path
from rectify.flows.intake.workbooks import HEADER_FILL
from rectify.flows.reports.cells import append_row
from rectify.models.calendar import SHANGHAI
from rectify.models.enums import Action
from rectify.models.issues import Issue
from rectify.models.places import place_text
from rectify.models.policy import Policy
from rectify.models.queries import load_issue_detail
from rectify.models.referrals import REASONS, Referral
from rectify.models.suspicion import KIND_LABELS, suspicions

WRAP = Alignment(wrap_text=True, vertical="top")


def _time(moment) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else ""


def _sheet(workbook: Workbook, title: str, headers: list[str], widths: list[int], rows) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    for row in rows:
        append_row(sheet, row)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.cell(row=1, column=index).fill = HEADER_FILL
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = WRAP
    sheet.freeze_panes = "A2"


def write_dossier(session: Session, issue: Issue, out: Path, *, policy: Policy, today: date) -> Path:
    load_issue_detail(session, issue)
    head = issue.household.head_name if issue.household else None
    facts = [
        ("问题编号", issue.code), ("状态", issue.status.label), ("督办级别", issue.supervision.label),
        ("地点", place_text(issue.county.name, issue.township.name if issue.township else None,
                           issue.village.name if issue.village else None)),
        ("户", f"{issue.household.registry_no}({head})" if issue.household else ""),
        ("检查项目", f"{issue.check_item.code} {issue.check_item.title}({issue.check_item.category})"),
        ("问题描述", issue.description), ("严重程度", issue.severity.label),
        ("责任单位", issue.unit.name if issue.unit else ""),
        ("原整改时限", str(issue.original_deadline or "")), ("现整改时限", str(issue.deadline or "")),
        ("整改措施", issue.measures or ""), ("现场解决情况", issue.on_site_note or ""),
        ("反弹次数", issue.reopen_count), ("退回次数", issue.return_count), ("延期次数", issue.extension_count),
        ("登记时间", _time(issue.created_at)), ("销号时间", _time(issue.closed_at)), ("导出日期", today.isoformat()),
    ]
    workbook = Workbook()
    first = workbook.active
    first.title = "问题"
    for label, value in facts:
        append_row(first, [label, value])
    first.column_dimensions["A"].width, first.column_dimensions["B"].width = 14, 80
    for cells in first.iter_rows():
        cells[0].font = Font(bold=True)
        cells[1].alignment = WRAP

    events = list(issue.events)
    _sheet(workbook, "处理经过", ["#", "时间(北京)", "操作", "操作人", "原状态", "新状态", "说明", "佐证材料数"],
           [5, 17, 12, 18, 10, 10, 60, 10],
           ([e.seq, _time(e.at), Action(e.action).label, e.actor.name if e.actor else "系统",
             e.from_status.label if e.from_status else "", e.to_status.label, e.note or "", len(e.evidence)]
            for e in events))
    _sheet(
        workbook,
        "佐证材料",
        ["环节#", "操作", "文件名", "类型", "大小(字节)", "SHA-256", "上传人", "上传时间", "存放位置"],
        [7, 10, 28, 22, 12, 66, 18, 17, 60],
        (
            [
                e.seq,
                Action(e.action).label,
                x.name,
                x.media_type,
                x.size,
                x.sha256,
                x.uploaded_by.name if x.uploaded_by else "",
                _time(x.uploaded_at),
                str(blob_path(x.sha256)),
            ]
            for e in events
            for x in e.evidence
        ),
    )
    recorded = [(e.seq, Action(e.action).label, w) for e in events for w in (e.payload or {}).get("warnings", [])]
    current = [("当前", "—", w.to_dict()) for w in suspicions(session, issue, policy)]
    _sheet(workbook, "核验预警", ["环节#", "核验决定", "预警类别", "说明", "相关问题"], [7, 10, 14, 70, 16],
           ([seq, decision, KIND_LABELS.get(w["kind"], w["kind"]), w["message"], w.get("other") or ""]
            for seq, decision, w in recorded + current))
    referrals = session.scalars(select(Referral).where(Referral.issue_id == issue.id).order_by(Referral.id))
    _sheet(
        workbook,
        "问责线索",
        ["原因", "说明", "移交时间", "办结时间"],
        [12, 60, 17, 17],
        ([REASONS.get(r.reason, r.reason), r.note or "", _time(r.created_at), _time(r.closed_at)] for r in referrals),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    return out
