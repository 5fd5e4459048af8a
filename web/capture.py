"""The capture page (手机采集): an offline web app for the field teams, and the calls it makes.

The page, its script and its service worker are served from /capture/, the worker's scope,
so the page opens with no signal once it has been opened online. Its calls answer JSON and
say 401, never a login redirect, when the session has ended:
- GET  /capture/session          who is signed in, the inspections they may record, the CSRF token;
- GET  /capture/sample?inspection=…   the inspection's sample (flows/intake/capture.phone_sample);
- POST /capture/photos           one photo, checked and stored by its content; answers its sha256;
- POST /capture/sync             a batch of records, imported by the `import-findings` flow: all or
                                 nothing, each error against its record; a batch synced again is
                                 read as rows already imported.
A county coordinator records for their own county's inspections only (checked here).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select

from rectify.flows.evidence_store import keep
from rectify.flows.intake.capture import MAX_BYTES, phone_sample
from rectify.flows.intake.columns import label_of
from rectify.models.enums import Role
from rectify.models.errors import DomainError, InvalidInput
from rectify.models.inspections import Finding
from rectify.models.issues import Issue
from rectify.models.lifecycle import RECORD_ROLES
from rectify.models.lookup import get_inspection
from rectify.web.imports import check_own_inspection, imports_root, inspections_for
from rectify.web.pages import render, work
from rectify.web.security import CSRF_FIELD, csrf_token, session_user
from rectify.web.uploads import received
from rectify.web.wording import message_of

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
CAPTURE_ROLES = (*sorted(RECORD_ROLES), Role.ADMIN)
NOT_SIGNED_IN = JSONResponse({"error": "登录已失效,请联网后重新登录(已记录的内容保存在手机上,不会丢失)"},
                             status_code=401)


def _caller(request: Request, ctx):
    user = session_user(request, ctx.session)
    if user is None or user.role not in CAPTURE_ROLES:
        return None
    return user


def _writer(request: Request, ctx):
    """The recorder a call that writes comes from, or the JSON answer refusing it."""
    user = _caller(request, ctx)
    if user is None:
        return None, NOT_SIGNED_IN
    expected, sent = request.session.get(CSRF_FIELD), request.headers.get("x-csrf-token", "")
    if not expected or not secrets.compare_digest(expected, sent):
        return None, _refused("缺少有效的安全令牌,请联网后重新打开本页", 403)
    return user, None


def _refused(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


@router.get("/capture")
def capture_page(request: Request):
    """The page itself reads nothing: it must open the same from the worker's cache, offline."""
    response = render(request, "capture.html", None, None)
    response.headers["cache-control"] = "no-cache"
    return response


@router.get("/capture/sw.js")
def service_worker():
    # Its scope is the page /capture itself as well as what lies under /capture/.
    return FileResponse(HERE / "static" / "capture-sw.js", media_type="text/javascript",
                        headers={"cache-control": "no-cache", "service-worker-allowed": "/capture"})


@router.get("/capture/manifest.webmanifest")
def manifest():
    return FileResponse(HERE / "static" / "capture.webmanifest", media_type="application/manifest+json")


@router.get("/capture/session")
def capture_session(request: Request):
    with work(request) as ctx:
        user = _caller(request, ctx)
        if user is None:
            return NOT_SIGNED_IN
        return JSONResponse({
            "user": user.name, "role": user.role.label, "csrf": csrf_token(request),
            "now": ctx.now.isoformat(), "inspections": [i.name for i in inspections_for(ctx.session, user)]})


@router.get("/capture/sample")
def capture_sample(request: Request, inspection: str = ""):
    with work(request) as ctx:
        user = _caller(request, ctx)
        if user is None:
            return NOT_SIGNED_IN
        try:
            found = get_inspection(ctx.session, inspection)
            check_own_inspection(user, found)
        except DomainError as exc:
            return _refused(message_of(exc), 404)
        return JSONResponse({**phone_sample(ctx.session, found), "now": ctx.now.isoformat()})


@router.post("/capture/photos")
def capture_photo(request: Request, photo: UploadFile | None = None):
    with work(request) as ctx:
        user, refusal = _writer(request, ctx)
        if refusal is not None:
            return refusal
        try:
            with received([photo] if photo else [], ctx.policy) as uploads:
                if not uploads:
                    raise InvalidInput("没有收到照片", field="photos")
                upload = uploads[0]
                if not upload.media_type.startswith("image/"):
                    raise InvalidInput(f"「{upload.name}」不是照片", field="photos")
                keep(upload)
        except InvalidInput as exc:
            return _refused(message_of(exc))
    return JSONResponse({"sha256": upload.sha256, "name": upload.name})


@router.post("/capture/sync")
async def capture_sync(request: Request):
    body = await request.body()
    if len(body) > MAX_BYTES:
        return _refused(f"一次同步的数据超过 {MAX_BYTES >> 20} MB,请分批同步")
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_sync, request, body)


def _sync(request: Request, body: bytes):
    from rectify.flows.intake.flow import run_import

    with work(request) as ctx:
        user, refusal = _writer(request, ctx)
        if refusal is not None:
            return refusal
        try:
            data = json.loads(body)
            records = data["records"]
            if not isinstance(records, list):
                raise TypeError
            found = get_inspection(ctx.session, str(data.get("inspection", "")))
            check_own_inspection(user, found)
        except (ValueError, KeyError, TypeError):
            return _refused("同步数据格式无效")
        except DomainError as exc:
            return _refused(message_of(exc))
        now, who, name, inspection_id = ctx.now, user.name, found.name, found.id
    folder = imports_root() / "capture"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_urlsafe(12)}.json"
    path.write_bytes(body)
    try:
        report = run_import(path, name, now, actor=who)
    finally:
        path.unlink(missing_ok=True)
    ids = [str(r.get("id", "")) if isinstance(r, dict) else "" for r in records]
    if report.fatal:
        return _refused(message_of(report.fatal_error) if report.fatal_error else report.fatal, 409)
    if report.errors:
        errors = [{"record": ids[e.row - 1] if e.row and e.row <= len(ids) else None, "row": e.row,
                   "field": e.column, "label": label_of(e.column) if e.column else None,
                   "message": e.message, "value": None if e.value is None else str(e.value)}
                  for e in report.errors]
        return JSONResponse({"written": False, "errors": errors}, status_code=422)
    with work(request) as ctx:
        codes = dict(ctx.session.execute(
            select(Finding.row_key, Issue.code).outerjoin(Issue, Issue.id == Finding.issue_id)
            .where(Finding.inspection_id == inspection_id,
                   Finding.row_key.in_([f"ref:{i.replace(' ', '')}" for i in ids if i]))).tuples().all())
    return JSONResponse({"written": True, "created": len(report.created), "unchanged": report.unchanged,
                         "records": {i: {"synced": f"ref:{i}" in codes, "code": codes.get(f"ref:{i}")}
                                     for i in ids if i}})
