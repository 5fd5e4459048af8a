"""回头看 and 群众满意度回访 in the browser: draw a batch (closed and on-site-solved problems, or
closed household-level ones to call back) and download its workbook, upload the filled workbook
(the problems found again, or whose household is 不满意, reopen), and read the rebound and
satisfaction rates. The same flows as `rectify recheck plan|import|rates`. One callback is also
answered on its problem's page (issue_callback).

Who: verifiers, administrators and the prefecture's coordinators. A county's 督查办 reads the
rates but neither draws nor uploads: a batch reopens problems of every county it names, and
回头看 is meant to be done by someone other than the county that closed them."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi import APIRouter, Form, Request, UploadFile

from rectify.models.enums import Role
from rectify.models.errors import DomainError, NotFound, PermissionDenied
from rectify.models.rechecks import (
    BY_LABEL,
    CALLBACK,
    FOLLOW_UPS,
    RECHECK,
    UNSATISFIED,
    answer,
    pending_callback,
    rebound_rates,
)
from rectify.web.access import coordinator_county_id, visible_issue
from rectify.web.imports import kept_folder, kept_url, save_upload
from rectify.web.pages import current, render, work
from rectify.web.security import check_csrf
from rectify.web.wording import message_of

router = APIRouter(include_in_schema=False)
ROLES = (Role.VERIFIER, Role.COORDINATOR, Role.ADMIN)


def may_run(user) -> bool:
    return coordinator_county_id(user) is None


def _page(request: Request, status: int = 200, **data):
    with work(request) as ctx:
        user = current(request, ctx, *ROLES)
        return render(request, "recheck.html", ctx, user, status=status, rates=rebound_rates(ctx.session),
                      satisfaction=rebound_rates(ctx.session, kind=CALLBACK), may_run=may_run(user),
                      titles={k: f.title for k, f in FOLLOW_UPS.items()}, **data)


@router.get("/recheck")
def recheck_page(request: Request):
    return _page(request)


@router.post("/recheck/plan")
def recheck_plan(request: Request, share: str = Form("10%"), seed: int = Form(2016), name: str = Form(""),
                 kind: str = Form(RECHECK), csrf: str = Form("")):
    from rectify.flows.recheck import parse_share, run_plan

    check_csrf(request, csrf)
    with work(request) as ctx:
        user = current(request, ctx, *ROLES)
        now, who, user_id = ctx.now, user.name, user.id
        allowed = may_run(user)
    folder: Path | None = None
    try:
        if not allowed:
            raise PermissionDenied("县督查办不能抽取回头看或回访;请由核验组或州督查办抽取")
        spec = FOLLOW_UPS.get(kind, FOLLOW_UPS[RECHECK])
        batch = name.strip() or f"{spec.title}-{now.date().isoformat()}-{seed}"
        file = f"{batch}.xlsx"
        folder = kept_folder(user_id, name=file)
        plan = run_plan(batch, parse_share(share), seed, folder / file, now, who, kind=spec.kind)
    except DomainError as exc:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        return _page(request, 400, error=message_of(exc))
    return _page(request, plan=plan, download=kept_url(folder, file))


@router.post("/recheck/import")
def recheck_import(request: Request, csrf: str = Form(""), file: UploadFile | None = None):
    from rectify.flows.recheck import run_recheck_import

    check_csrf(request, csrf)
    with work(request) as ctx:
        user = current(request, ctx, *ROLES)
        now, who, user_id = ctx.now, user.name, user.id
        allowed = may_run(user)
    try:
        if not allowed:
            raise PermissionDenied("县督查办不能导入回头看或回访结果;请由核验组或州督查办导入")
        _, path = save_upload(file, user_id, suffixes=(".xlsx",), kind="回头看或回访工作簿")
        result = run_recheck_import(path, now, who)
    except DomainError as exc:
        return _page(request, 400, error=message_of(exc))
    return _page(request, result=result)





@router.post("/issues/{code}/callback")
def issue_callback(request: Request, code: str, result: str = Form(""), note: str = Form(""),
                   csrf: str = Form("")):
    """One household's callback answered on the problem's page (满意 / 基本满意 / 不满意)."""
    from urllib.parse import quote

    from fastapi.responses import RedirectResponse

    check_csrf(request, csrf)
    try:
        with work(request) as ctx:
            user = current(request, ctx, Role.VERIFIER, Role.COORDINATOR)
            issue = visible_issue(ctx.session, user, code)
            item = pending_callback(ctx.session, issue)
            if item is None:
                raise NotFound("待回访记录", code, hint="此问题没有抽入满意度回访,或已回访")
            verdict = BY_LABEL.get(result.strip(), result)  # anything else is refused by answer(), naming the choices
            answer(ctx.session, item, verdict, note, actor=user, now=ctx.now, policy=ctx.policy,
                   calendar=ctx.calendar)
            said = f"{code}:已记录回访结果「{result.strip()}」" + (",问题已反弹重开" if verdict == UNSATISFIED else "")
        request.session["flash"] = ["ok", said]
    except DomainError as exc:
        request.session["flash"] = ["error", message_of(exc)]
    return RedirectResponse(f"/issues/{quote(code, safe='')}", status_code=303)
