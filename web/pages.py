"""The HTML pages (login is web/login.py): the leadership dashboard, the problem list and page, and the work
queues of units, coordinators and verifiers. Server-rendered, no JavaScript needed.

Where a page runs: the most visited pages, which only read (the login form, the dashboard,
one page of the list, one problem's page: every link in a message opens it, a unit's
workbench: its open problems, a few hundred at most), are `async def` and run on the event loop. Handing a request to a
thread and back costs about as much CPU as rendering the list page itself. While one of them
runs, its worker serves nothing else: a few milliseconds as a rule; at 100,000 problems about
50 ms for the unfiltered list (it counts and sorts every match) and 60-110 ms for the dashboard
right after a change (then it is cached). At ten times that scale, make them `def` again.
Everything else is `def` and runs in the thread pool: steps that write (on SQLite they may
wait for the write lock), exports, downloads and the pages
whose work grows with the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from rectify.flows.context import Context, unit_of_work
from rectify.flows.evidence_store import blob_path
from rectify.flows.reports.columns import RATES, TARGET, shown
from rectify.flows.views import issue_to_dict
from rectify.models.calendar import SHANGHAI, local_date
from rectify.models.enums import OPEN_STATUSES, Action, Role, Status, Supervision
from rectify.models.errors import DomainError, NotFound
from rectify.models.issues import Evidence
from rectify.models.lifecycle import head_review
from rectify.models.org import Unit, User
from rectify.models.overlays import Light, pause_flagged, traffic_light, verification_late_days, verify_by
from rectify.models.photo_checks import before_and_after, km_from_village
from rectify.models.places import County, place_of
from rectify.models.queries import SORTS, IssueFilter, IssueRow, issue_rows, load_issue_detail, search_issues
from rectify.models.rechecks import pending_callback
from rectify.models.spread import same_item_elsewhere
from rectify.models.suspicion import find_suspicions, suspicions
from rectify.web.access import (
    can_see,
    coordinator_county_id,
    scoped,
    sees_households,
    sees_warnings,
    visible_issue,
    warnings_for,
)
from rectify.web.actions import STEPS, offered_steps, perform
from rectify.web.dashboard import dashboard
from rectify.web.reference import Reference
from rectify.web.security import check_csrf, csrf_token, session_user
from rectify.web.uploads import received
from rectify.web.wording import message_of

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(shown=shown, RATES=RATES, TARGET=TARGET, Status=Status, Supervision=Supervision,
                             Light=Light, tz=SHANGHAI, labels={a.value: a.label for a in Action})
router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
HOME = {Role.UNIT: "/workbench", Role.COORDINATOR: "/coordinator", Role.VERIFIER: "/verifier",
        Role.LEADER: "/dashboard", Role.ADMIN: "/dashboard"}


class LoginRequired(Exception):
    pass


@contextmanager
def work(request: Request, *, reading: bool = False) -> Iterator[Context]:
    """The request's unit of work. `reading`: a page that only reads, whose policy and calendar
    (for the traffic lights) come from the worker's reference copy (web/reference.py)."""
    with unit_of_work(request.app.state.clock(), url=request.app.state.url) as ctx:
        if reading:
            reference: Reference = request.app.state.reference
            ctx.policy = reference.policy(ctx.session)
            ctx.calendar = reference.calendar(ctx.session)
        yield ctx


def current(request: Request, ctx: Context, *roles: Role) -> User:
    user = session_user(request, ctx.session)
    if user is None:
        raise LoginRequired()
    if roles and user.role not in roles:
        raise HTTPException(403, f"此页面仅供{'、'.join(r.label for r in roles)}使用")
    return user


def render(request: Request, template: str, ctx: Context | None, user: User | None, status: int = 200,
           **data) -> Response:
    """A page; `ctx` None for one that reads nothing (the login form and its refusals)."""
    return templates.TemplateResponse(request, template, {
        "user": user, "csrf": csrf_token(request), "today": ctx.today if ctx else None,
        "flash": request.session.pop("flash", None),
        "home": HOME.get(user.role, "/issues") if user else "/login", "status_code": status, **data},
        status_code=status)


def local_path(path: str | None, default: str) -> str:
    return path if path and path.startswith("/") and not path.startswith("//") else default


@router.get("/")
async def index(request: Request):
    with work(request) as ctx:
        user = current(request, ctx)
        return RedirectResponse(HOME.get(user.role, "/issues"), status_code=303)


# --- leadership ------------------------------------------------------------------------------------


@router.get("/dashboard")
async def dashboard_page(request: Request):
    with work(request, reading=True) as ctx:
        user = current(request, ctx)
        if user.role is Role.UNIT:
            return RedirectResponse("/workbench", status_code=303)
        own = coordinator_county_id(user)
        board = dashboard(ctx.session, now=ctx.now, calendar=ctx.calendar, policy=ctx.policy,
                          url=str(request.app.state.url),
                          county=ctx.session.get(County, own) if own is not None else None)
        return render(request, "dashboard.html", ctx, user, board=board)


# --- the problem list --------------------------------------------------------------------------------


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def _filter_from(request: Request, ctx: Context) -> tuple[IssueFilter, dict]:
    """The list filter from the query string (names, as users see them), and the values shown back."""
    q = request.query_params
    s = ctx.session
    reference: Reference = request.app.state.reference
    chosen = {k: q.get(k, "").replace("\x00", "") for k in ("county", "township", "village", "unit", "category",
                                                              "status", "light", "supervision", "overdue", "counted",
                                                              "verification_late", "sort")}
    county = reference.counties(s).get(chosen["county"]) if chosen["county"] else None
    township = village = unit = None
    if county is not None and chosen["township"]:
        township = reference.townships(s, county).get(chosen["township"])
    if township is not None and chosen["village"]:
        village = reference.villages(s, township).get(chosen["village"])
    if chosen["unit"]:
        unit = s.scalars(select(Unit.id).where(Unit.name == chosen["unit"])).one_or_none()

    def parse(enum, text):
        try:
            return enum(text) if text else None
        except ValueError:
            return None

    wanted = IssueFilter(
        county_id=county if county is not None else (-1 if chosen["county"] else None),
        township_id=township if township is not None else (-1 if chosen["township"] and county else None),
        village_id=village if village is not None else (-1 if chosen["village"] and township else None),
        unit_id=unit if unit is not None else (-1 if chosen["unit"] else None),
        category=chosen["category"] or None,
        status=parse(Status, chosen["status"]),
        light=parse(Light, chosen["light"]),
        supervision=parse(Supervision, chosen["supervision"]),
        overdue=chosen["overdue"] in ("1", "on", "true"),
        verification_late=chosen["verification_late"] in ("1", "on", "true"),
        counted=chosen["counted"] in ("1", "on", "true"),
        sort=chosen["sort"] if chosen["sort"] in SORTS else "deadline",
    )
    return wanted, chosen


def _row(row: IssueRow, ctx: Context, households: bool) -> SimpleNamespace:
    # Attributes, not a dict: the template reads a dozen per row, and Jinja tries attributes first.
    return SimpleNamespace(**row._asdict() | {
        "township": row.township or "", "village": row.village or "", "unit": row.unit or "",
        "household": (row.household or "") if households else "",
        "light": traffic_light(row, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy),
        "until": row.extension_requested_until,
        "pause_flagged": pause_flagged(row, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy)})


def _choices(request: Request, ctx: Context, user: User, wanted: IssueFilter) -> dict:
    s = ctx.session
    reference: Reference = request.app.state.reference
    own = coordinator_county_id(user)
    counties = [name for name, county_id in reference.counties(s).items() if own is None or county_id == own]
    townships = villages = []
    if wanted.county_id not in (None, -1):
        townships = list(reference.townships(s, wanted.county_id))
        if wanted.township_id not in (None, -1):
            villages = list(reference.villages(s, wanted.township_id))
    return {"counties": counties, "townships": townships, "villages": villages, "categories": reference.categories(s)}


@router.get("/issues")
async def issue_list(request: Request, page: int = 1):
    with work(request, reading=True) as ctx:
        user = current(request, ctx)
        wanted, chosen = _filter_from(request, ctx)
        page = max(page, 1)
        issues, total = issue_rows(ctx.session, scoped(user, wanted), today=ctx.today, calendar=ctx.calendar,
                                   policy=ctx.policy, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        households = sees_households(user)
        query = {k: v for k, v in chosen.items() if v}
        return render(request, "issues.html", ctx, user, rows=[_row(i, ctx, households) for i in issues], total=total,
                      page=page, pages=max(1, -(-total // PAGE_SIZE)), chosen=chosen, query=urlencode(query),
                      households=households, **_choices(request, ctx, user, wanted))


@router.get("/issues.xlsx")
def issue_export(request: Request):
    from rectify.flows.reports.issue_list import issue_list_workbook

    with work(request) as ctx:
        user = current(request, ctx)
        wanted, _ = _filter_from(request, ctx)
        issues, _ = issue_rows(ctx.session, scoped(user, wanted), today=ctx.today, calendar=ctx.calendar,
                               policy=ctx.policy, limit=None)
        households = sees_households(user)

        def rows():
            for issue in issues:
                r = _row(issue, ctx, households)
                cells = [r.code, r.status.label, r.county, r.township, r.village, r.household, r.item, r.category,
                         r.description, r.unit, r.deadline, r.light.label if r.light else "", r.supervision.label]
                if not households:
                    del cells[5]
                yield cells

        content = issue_list_workbook(rows(), households=households)
    name = f"问题清单-{ctx.today.isoformat()}.xlsx"
    return Response(content, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


# --- one problem -------------------------------------------------------------------------------------


@router.get("/issues/{code}")
async def issue_page(request: Request, code: str):
    with work(request, reading=True) as ctx:
        user = current(request, ctx)
        issue = visible_issue(ctx.session, user, code)
        load_issue_detail(ctx.session, issue)
        data = issue_to_dict(issue, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy, with_events=False)
        warnings = warnings_for(ctx.session, user, suspicions(ctx.session, issue, ctx.policy)) \
            if sees_warnings(user) else []
        units = []
        if {"assign", "assist"} & set(offered_steps(issue, user)):
            units = ctx.session.scalars(select(Unit.name).where((Unit.county_id == issue.county_id)
                                                                | Unit.county_id.is_(None)).order_by(Unit.name)).all()
        flag = ctx.policy.pause_flag_workdays if pause_flagged(
            issue, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy) else None
        spread = same_item_elsewhere(ctx.session, issue)
        callback = pending_callback(ctx.session, issue) if user.role in (Role.VERIFIER, Role.COORDINATOR) else None
        return render(request, "issue.html", ctx, user, issue=issue, data=data, warnings=warnings, pause_flag=flag,
                      spread=spread, callback=callback, asks=ctx.policy.asks(issue.check_item, issue.severity),
                      to_head=user.role is Role.UNIT and head_review(ctx.session, issue, user, ctx.policy) == "to_head",
                      forms=offered_steps(issue, user), households=sees_households(user), units=units,
                      sides=before_and_after(issue), km_from_village=km_from_village)


@router.post("/issues/{code}/act/{action}")
def issue_act(request: Request, code: str, action: str, csrf: str = Form(""), version: str = Form(""),
              back: str = Form(""), reason: str = Form(""), note: str = Form(""), measures: str = Form(""),
              cause: str = Form(""), spread: str = Form(""), rules: str = Form(""), stages: str = Form(""),
              until: str = Form(""), unit: str = Form(""), deadline: str = Form(""), level: str = Form(""),
              assist: Annotated[list[str] | None, Form()] = None, files: list[UploadFile] | None = None):
    check_csrf(request, csrf)
    fields = {"reason": reason, "note": note, "measures": measures, "cause": cause, "spread": spread,
              "rules": rules, "stages": stages, "until": until, "unit": unit, "deadline": deadline, "level": level,
              "assist": "\n".join(assist or [])}
    target = local_path(back, f"/issues/{code}")
    try:
        with work(request) as ctx:
            user = current(request, ctx)
            with received(files, ctx.policy) as uploads:
                issue = perform(ctx, user, code, action, fields, uploads, expected_version=_int(version))
                done = f"{code}:已{STEPS[action].action.label},当前状态「{issue.status.label}」"
        request.session["flash"] = ["ok", done]
    except NotFound as exc:
        if exc.kind == "问题编号":
            raise
        request.session["flash"] = ["error", message_of(exc)]
    except DomainError as exc:
        request.session["flash"] = ["error", message_of(exc)]
    return RedirectResponse(target, status_code=303)


@router.get("/evidence/{evidence_id}/{name}")
def evidence_file(request: Request, evidence_id: int, name: str):
    with work(request) as ctx:
        user = current(request, ctx)
        piece = ctx.session.get(Evidence, evidence_id)
        if piece is None or piece.name != name or not can_see(user, piece.issue):
            raise NotFound("佐证材料", name)
        path, media_type = blob_path(piece.sha256), piece.media_type
    if not path.is_file():
        raise NotFound("佐证材料文件", name, hint="存储中缺少该文件,请联系运维")
    inline = media_type.startswith("image/")  # anything else is a download, never rendered here
    return FileResponse(path, media_type=media_type, filename=name,
                        content_disposition_type="inline" if inline else "attachment")


# --- work queues -----------------------------------------------------------------------------------


@router.get("/workbench")
async def workbench(request: Request):
    with work(request, reading=True) as ctx:
        user = current(request, ctx, Role.UNIT)
        issues, _ = issue_rows(ctx.session, scoped(user, IssueFilter()), today=ctx.today, calendar=ctx.calendar,
                               policy=ctx.policy, limit=None)
        open_rows = [_row(i, ctx, True) for i in issues if i.status in OPEN_STATUSES]
        groups = {light: [r for r in open_rows if r.light is light] for light in (Light.RED, Light.YELLOW, Light.GREEN)}
        waiting = [r for r in open_rows if r.light is None]
        assisted, _ = issue_rows(ctx.session, IssueFilter(assisted_by=user.unit_id if user.unit_id else -1),
                                 today=ctx.today, calendar=ctx.calendar, policy=ctx.policy, limit=None)
        assisting = [_row(i, ctx, True) for i in assisted if i.status in OPEN_STATUSES]
        reviews = [r for r in open_rows if r.status is Status.REVIEWING] if user.unit_head else None
        return render(request, "workbench.html", ctx, user, groups=groups, waiting=waiting, count=len(open_rows),
                      assisting=assisting, reviews=reviews)


@router.get("/coordinator")
def coordinator(request: Request):
    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        s, mine = ctx.session, scoped(user, IssueFilter())

        def rows(**kw):
            from dataclasses import replace

            found, total = issue_rows(s, replace(mine, **kw), today=ctx.today, calendar=ctx.calendar,
                                      policy=ctx.policy, limit=100)
            return [_row(i, ctx, True) for i in found], total

        triage, triage_total = rows(status=Status.TRIAGE, sort="created")
        overdue, overdue_total = rows(overdue=True)
        requests, _ = rows(extension_pending=True)
        pauses, _ = rows(pause_pending=True)
        paused, paused_total = rows(status=Status.PAUSED)
        waiting, waiting_total = rows(verification_late=True, sort="submitted")
        return render(request, "coordinator.html", ctx, user, triage=triage, triage_total=triage_total,
                      extensions=requests, pauses=pauses, paused=paused, paused_total=paused_total,
                      pause_flag=ctx.policy.pause_flag_workdays, overdue=overdue, overdue_total=overdue_total,
                      waiting=waiting,
                      waiting_total=waiting_total, within=ctx.policy.verify_within_days)


@router.get("/verifier")
def verifier(request: Request):
    with work(request) as ctx:
        user = current(request, ctx, Role.VERIFIER)
        found, total = search_issues(ctx.session, scoped(user, IssueFilter(status=Status.SUBMITTED, sort="submitted")),
                                     today=ctx.today, calendar=ctx.calendar, policy=ctx.policy, limit=200)
        warned = find_suspicions(ctx.session, found, ctx.policy)
        queue = [
            {
                "code": i.code,
                "place": place_of(i),
                "item": i.check_item.title,
                "unit": i.unit.name if i.unit else "",
                "measures": i.measures,
                "warnings": warned.get(i.id, []),
                "own": i.unit_id == user.unit_id,
                "submitted": local_date(i.submitted_at) if i.submitted_at else None,
                "verify_by": verify_by(i.submitted_at, calendar=ctx.calendar, policy=ctx.policy)
                if i.submitted_at else None,
                "late": verification_late_days(i, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy),
            }
            for i in found
        ]
        # Counted over the whole queue, not the page shown: the same count as the figures'.
        _, late = issue_rows(ctx.session, scoped(user, IssueFilter(verification_late=True)), today=ctx.today,
                             calendar=ctx.calendar, policy=ctx.policy, limit=1)
        return render(request, "verifier.html", ctx, user, queue=queue, total=total, late=late,
                      within=ctx.policy.verify_within_days)
