"""The coordinator imports a findings workbook in the browser: the same `import-findings` flow as
`rectify import`, a check first (nothing written), each error by sheet, row and column, the
marked copy to download, then the import itself.

Uploads and their marked copies are kept under $RECTIFY_HOME/imports/<random>/ with the
uploader's id beside them; only that user downloads them. A county coordinator imports into
their own county's inspections only (checked here, on the server, whatever the form says).
"""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select

from rectify.flows.evidence_store import CHUNK, clean_name
from rectify.models.db import rectify_home
from rectify.models.enums import Role
from rectify.models.errors import InvalidInput, NotFound, PermissionDenied
from rectify.models.inspections import Inspection
from rectify.models.lookup import get_inspection
from rectify.web.access import coordinator_county_id
from rectify.web.headers import MAX_BODY
from rectify.web.pages import current, render, work
from rectify.web.security import check_csrf
from rectify.web.wording import message_of

router = APIRouter(include_in_schema=False)
SHOWN_ERRORS = 200
SUFFIXES = (".xlsx", ".xlsm", ".csv")


def imports_root() -> Path:
    return rectify_home() / "imports"


def inspections_for(session, user) -> list[Inspection]:
    query = select(Inspection).order_by(Inspection.id.desc())
    county = coordinator_county_id(user)
    if county is not None:
        query = query.where(Inspection.county_id == county)
    return list(session.scalars(query))


def check_own_inspection(user, inspection: Inspection) -> None:
    county = coordinator_county_id(user)
    if county is not None and inspection.county_id != county:
        raise PermissionDenied(f"督导「{inspection.name}」不是本县的,县督查办只能处理本县的督导")


def progress_file(user_id: int, ticket: str) -> Path | None:
    """Where an import started from a page notes how far it got: named by the page's ticket and
    the user, so nobody else can read it."""
    if not ticket or len(ticket) > 40 or not ticket.replace("-", "").replace("_", "").isalnum():
        return None
    folder = imports_root() / "progress"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{user_id}-{ticket}.json"


def render_form(request: Request, ctx, user, status: int = 200, **data):
    return render(request, "import.html", ctx, user, status=status, inspections=inspections_for(ctx.session, user),
                  ticket=secrets.token_urlsafe(12), **data)


@router.get("/coordinator/import")
def import_page(request: Request):
    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        return render_form(request, ctx, user)


@router.get("/coordinator/import/progress/{ticket}")
def import_progress(request: Request, ticket: str):
    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        path = progress_file(user.id, ticket)
    if path is None or not path.is_file():
        return JSONResponse({"rows": 0, "errors": 0, "stage": "等待"})
    return JSONResponse(json.loads(path.read_text(encoding="utf-8")))


@router.post("/coordinator/import")
def import_upload(request: Request, inspection: str = Form(""), mode: str = Form("check"), csrf: str = Form(""),
                  ticket: str = Form(""), file: UploadFile | None = None):
    from rectify.flows.intake.flow import run_import

    check_csrf(request, csrf)
    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        now, who, user_id = ctx.now, user.name, user.id
        try:
            found = get_inspection(ctx.session, inspection)
            check_own_inspection(user, found)
            folder, path = save_upload(file, user_id, inspection=found.name)
        except (InvalidInput, NotFound, PermissionDenied) as exc:
            return render_form(request, ctx, user, status=400, chosen=inspection, error=message_of(exc))
    dry_run = mode != "import"
    report = run_import(path, found.name, now, actor=who, dry_run=dry_run, progress=progress_file(user_id, ticket))
    return _outcome(request, report, folder, path, inspection=found.name, dry_run=dry_run)


@router.post("/coordinator/import/{token}")
def import_checked(request: Request, token: str, csrf: str = Form(""), ticket: str = Form("")):
    """Import the file that was just checked, without uploading it again."""
    from rectify.flows.intake.flow import run_import

    check_csrf(request, csrf)
    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        folder = _owned(token, user.id)
        meta = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
        found = get_inspection(ctx.session, meta["inspection"]) if meta.get("inspection") else None
        if found is None:
            raise NotFound("导入记录", token)
        check_own_inspection(user, found)
        now, who = ctx.now, user.name
    path = folder / meta["name"]
    report = run_import(path, found.name, now, actor=who, progress=progress_file(user.id, ticket))
    return _outcome(request, report, folder, path, inspection=found.name, dry_run=False)


def _outcome(request: Request, report, folder: Path, path: Path, *, inspection: str, dry_run: bool):
    """The page after a check or an import: the one reason, or each error with the marked copy,
    or what was written; after a clean check, the button that imports the same file."""
    marked = Path(report.errors_file) if report.errors_file else None
    clean = not report.errors and not report.fatal
    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        return render_form(request, ctx, user, status=200 if clean else 400, chosen=inspection, report=report,
                           dry_run=dry_run, file_name=path.name,
                           fatal=message_of(report.fatal_error) if report.fatal_error else report.fatal,
                           errors=[str(e) for e in report.errors[:SHOWN_ERRORS]],
                           more=len(report.errors) - SHOWN_ERRORS,
                           marked=kept_url(folder, marked.name) if marked else None,
                           again=folder.name if dry_run and clean else None)


@router.get("/files/{token}/{name}")
def kept_file(request: Request, token: str, name: str):
    """A file kept for one user (an upload and its marked copy, a plan, a 回头看 workbook): theirs only."""
    with work(request) as ctx:
        user = current(request, ctx)
        folder = _owned(token, user.id)
    path = folder / clean_name(name)
    if not path.is_file() or path.name == "upload.json":
        raise NotFound("文件", name)
    return FileResponse(path, filename=path.name, content_disposition_type="attachment")


def _owned(token: str, user_id: int) -> Path:
    folder = imports_root() / token
    meta = folder / "upload.json"
    safe = token.replace("-", "").replace("_", "").isalnum()
    if not safe or not meta.is_file() or json.loads(meta.read_text(encoding="utf-8")).get("user") != user_id:
        raise NotFound("导入记录", token)
    return folder


def save_upload(file: UploadFile | None, user_id: int, *, suffixes: tuple[str, ...] = SUFFIXES,
                kind: str = "检查表", **meta: str) -> tuple[Path, Path]:
    """An uploaded workbook kept in a folder of its own (read in chunks, at most MAX_BODY)."""
    accepted = " 或 ".join(suffixes)
    if file is None or not file.filename:
        raise InvalidInput(f"请选择要上传的{kind}文件({accepted})", field="file")
    name = clean_name(file.filename)
    if not name.lower().endswith(suffixes):
        hint = ",请在 Excel 中另存为 .xlsx" if name.lower().endswith((".xls", ".et", ".wps")) else ""
        raise InvalidInput(f"文件「{name}」不是 {accepted}{hint}", field="file")
    folder = kept_folder(user_id, name=name, **meta)
    path = folder / name
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := file.file.read(CHUNK):
                size += len(chunk)
                if size > MAX_BODY:
                    raise InvalidInput(f"文件「{name}」超过 {MAX_BODY >> 20} MB", field="file")
                out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, path


def kept_folder(user_id: int, **meta: str) -> Path:
    """A new folder for one user's file (an upload, a plan drawn for them), downloadable by them only."""
    folder = imports_root() / secrets.token_urlsafe(12)
    folder.mkdir(parents=True)
    (folder / "upload.json").write_text(json.dumps({"user": user_id, **meta}, ensure_ascii=False), encoding="utf-8")
    return folder


def kept_url(folder: Path, name: str) -> str:
    return f"/files/{folder.name}/{quote(name)}"
