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
from rectify.models.photo_checks import before_and_after, km_from_village
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


def _km(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else ""


THUMB = (320, 240)  # pixels of a photo drawn in the 整改前后对照 sheet


def _side_by_side(workbook: Workbook, before: list, after: list) -> None:
    """The photos themselves, 整改前 in column A beside 整改后 in column B, one pair a row."""
    from openpyxl.drawing.image import Image as Drawn

    sheet = workbook.create_sheet("整改前后对照")
    sheet.append(["整改前(检查时拍摄)", "整改后(责任单位提交)"])
    for index in (1, 2):
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.cell(row=1, column=index).fill = HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = 48
    photos = [[x for x in side if x.media_type.startswith("image/")] for side in (before, after)]
    for row in range(max(len(photos[0]), len(photos[1]))):
        sheet.row_dimensions[row + 2].height = THUMB[1] * 0.75 + 20
        for column, side in enumerate(photos):
            if row >= len(side):
                continue
            x = side[row]
            cell = sheet.cell(row=row + 2, column=column + 1, value=f"{x.name} {_time(x.taken_at)}".strip())
            cell.alignment = WRAP
            thumb = _thumbnail(blob_path(x.sha256))
            if thumb is not None:
                drawn = Drawn(thumb)
                sheet.add_image(drawn, f"{get_column_letter(column + 1)}{row + 2}")


def _thumbnail(path: Path):
    """A PNG of the photo at most THUMB in size, or None when the file is gone or unreadable."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.draft("RGB", THUMB)
            picture = image.convert("RGB")
            picture.thumbnail(THUMB)
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    out = io.BytesIO()
    picture.save(out, "PNG")
    out.seek(0)
    return out


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
    before, after, _ = before_and_after(issue)
    side = {x.id: "整改前" for x in before} | {x.id: "整改后" for x in after}
    _sheet(
        workbook,
        "佐证材料",
        ["环节#", "操作", "前后", "文件名", "类型", "大小(字节)", "SHA-256", "上传人", "上传时间", "拍摄时间",
         "拍摄位置", "距村(公里)", "存放位置"],
        [7, 10, 8, 28, 22, 12, 66, 18, 17, 17, 22, 10, 60],
        (
            [
                e.seq,
                Action(e.action).label,
                side.get(x.id, ""),
                x.name,
                x.media_type,
                x.size,
                x.sha256,
                x.uploaded_by.name if x.uploaded_by else "",
                _time(x.uploaded_at),
                _time(x.taken_at),
                f"{x.latitude:.5f}, {x.longitude:.5f}" if x.latitude is not None and x.longitude is not None else "",
                _km(km_from_village(x, issue)),
                str(blob_path(x.sha256)),
            ]
            for e in events
            for x in e.evidence
        ),
    )
    _side_by_side(workbook, before, after)
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
