"""Documents to download in the browser, made on request by the same code as the commands:
the 整改台账 (`rectify ledger`), an inspection's 反馈意见 (`rectify feedback`) and the weekly
bulletins the scheduled flow wrote. For the 督查办 and administrators; a county's 督查办 gets
its own county's ledger and its county's inspections, whatever the link asks for."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from rectify.models.calendar import moment_text
from rectify.models.db import rectify_home
from rectify.models.enums import Role
from rectify.models.errors import NotFound
from rectify.models.lookup import get_county, get_inspection
from rectify.models.places import County
from rectify.web.access import coordinator_county_id
from rectify.web.imports import check_own_inspection, inspections_for
from rectify.web.pages import current, render, work

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}


def bulletin_files() -> list[Path]:
    folder = rectify_home() / "bulletins"
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob("*") if p.suffix in (".md", ".xlsx", ".docx")), reverse=True)


@router.get("/downloads")
def downloads_page(request: Request):
    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        own = coordinator_county_id(user)
        counties = [c.name for c in ctx.session.scalars(select(County).order_by(County.sort_order))
                    if own is None or c.id == own]
        return render(request, "downloads.html", ctx, user, counties=counties, whole=own is None,
                      inspections=inspections_for(ctx.session, user), bulletins=[p.name for p in bulletin_files()],
                      moment=moment_text(ctx.now))


@router.get("/downloads/ledger.xlsx")
def ledger_file(request: Request, county: str = ""):
    from rectify.flows.reports.ledger import write_ledger

    with work(request) as ctx, tempfile.TemporaryDirectory() as folder:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        own = coordinator_county_id(user)
        wanted = get_county(ctx.session, county) if county else None
        if own is not None and (wanted is None or wanted.id != own):
            wanted = ctx.session.get(County, own)  # a county's 督查办: its own ledger, whatever was asked
        path = Path(folder) / "ledger.xlsx"
        write_ledger(ctx.session, path, now=ctx.now, calendar=ctx.calendar, policy=ctx.policy, county=wanted)
        content = path.read_bytes()
    name = f"整改台账-{wanted.name if wanted else '全州'}-{ctx.today.isoformat()}.xlsx"
    return Response(content, media_type=XLSX, headers=attachment(name))


@router.get("/downloads/feedback.md")
def feedback_file(request: Request, inspection: str):
    from rectify.flows.reports.feedback import feedback_report

    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        found = get_inspection(ctx.session, inspection)
        check_own_inspection(user, found)
        text = feedback_report(ctx.session, found, now=ctx.now, calendar=ctx.calendar, policy=ctx.policy) + "\n"
    return Response(text.encode("utf-8"), media_type="text/markdown; charset=utf-8",
                    headers=attachment(f"反馈意见-{found.name}.md"))


@router.get("/downloads/bulletins/{name}")
def bulletin_file(request: Request, name: str):
    with work(request) as ctx:
        current(request, ctx, Role.COORDINATOR, Role.ADMIN)
    found = next((p for p in bulletin_files() if p.name == name), None)
    if found is None:
        raise NotFound("周通报", name)
    return FileResponse(found, filename=found.name, content_disposition_type="attachment")


@router.get("/issues/{code}/dossier.xlsx")
def dossier_file(request: Request, code: str):
    """One problem's 案卷 (`rectify dossier`): its trail, evidence list and warnings, for the
    coordinators, verifiers and administrators who may open it."""
    from rectify.flows.reports.dossier import write_dossier
    from rectify.web.access import visible_issue

    with work(request) as ctx, tempfile.TemporaryDirectory() as folder:
        user = current(request, ctx, Role.COORDINATOR, Role.VERIFIER, Role.ADMIN)
        issue = visible_issue(ctx.session, user, code)
        path = write_dossier(ctx.session, issue, Path(folder) / "dossier.xlsx", policy=ctx.policy, today=ctx.today)
        content, name = path.read_bytes(), f"案卷-{issue.code}.xlsx"
    return Response(content, media_type=XLSX, headers=attachment(name))
