"""The JSON API: the same problems, steps and figures as the pages, with token auth.

Tokens come from `rectify user token NAME`; send `Authorization: Bearer <token>`. Errors are
`{"error": "…"}` with 400 (bad input), 401 (no or bad token), 403 (not allowed), 404 (not
found or not visible to this user), 409 (the state changed or does not allow the step).
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from rectify.flows.context import Context, unit_of_work
from rectify.flows.views import issue_to_dict
from rectify.models.accounts import token_user
from rectify.models.enums import Role, Status, Supervision
from rectify.models.errors import NotFound
from rectify.models.estimates import estimates, rank_bands
from rectify.models.figures import DIMENSIONS, figures
from rectify.models.lookup import get_county, get_inspection
from rectify.models.org import User
from rectify.models.overlays import Light
from rectify.models.places import County
from rectify.models.queries import SORTS, IssueFilter, load_issue_detail, search_issues
from rectify.models.suspicion import suspicions
from rectify.models.text import TEXT_LIMIT, checked_text
from rectify.web.access import (
    coordinator_county_id,
    scoped,
    sees_households,
    sees_warnings,
    visible_issue,
    warnings_for,
)
from rectify.web.actions import STEPS, perform
from rectify.web.uploads import received


class ErrorBody(BaseModel):
    error: str


# Every answer but 200 carries {"error": "…"}: documented once for every endpoint.
router = APIRouter(tags=["rectify"], responses={
    400: {"model": ErrorBody, "description": "输入无效(指明字段)"},
    401: {"model": ErrorBody, "description": "缺少或无效的 API 令牌"},
    403: {"model": ErrorBody, "description": "无权执行"},
    404: {"model": ErrorBody, "description": "不存在或不在权限范围内"},
    409: {"model": ErrorBody, "description": "状态已变化或不允许此操作"},
})
bearer = HTTPBearer(auto_error=False, description="rectify user token 生成的令牌")
StepName = Literal[tuple(STEPS)]  # type: ignore[valid-type]
SortName = Literal[tuple(SORTS)]  # type: ignore[valid-type]
Dimension = StrEnum("Dimension", {d: d for d in DIMENSIONS})
MAX_TEXT = TEXT_LIMIT
INT_MAX = 2**31 - 1  # an id or version PostgreSQL can compare


def work(request: Request) -> Iterator[Context]:
    with unit_of_work(request.app.state.clock(), url=request.app.state.url) as ctx:
        yield ctx


def caller(request: Request, ctx: Annotated[Context, Depends(work, scope="function")],
           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    user = token_user(ctx.session, credentials.credentials) if credentials else None
    if user is None:
        raise HTTPException(401, "缺少或无效的 API 令牌(Authorization: Bearer …)",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


# scope="function": the transaction commits before the response is sent, so a 200 means saved.
Ctx = Annotated[Context, Depends(work, scope="function")]
Caller = Annotated[User, Depends(caller)]


def _clean(text: str | None, what: str) -> str | None:
    return checked_text(text, what, field=what) if text is not None else None


def _shown(data: dict[str, Any], user: User) -> dict[str, Any]:
    if not sees_households(user):
        data["household"] = data["household_head"] = None
    return data


class Me(BaseModel):
    name: str
    role: str
    role_label: str
    unit: str | None


class IssuePage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[dict[str, Any]]


@router.get("/me", response_model=Me, summary="当前令牌的用户")
def me(user: Caller) -> Me:
    return Me(name=user.name, role=user.role.value, role_label=user.role.label,
              unit=user.unit.name if user.unit else None)


@router.get("/figures", summary="整改统计(与 rectify report 相同的定义;按令牌用户的权限范围)")
def figure_rows(ctx: Ctx, user: Caller, by: Dimension = Dimension.county,  # type: ignore[valid-type]
                county: Annotated[str | None, Query(max_length=40)] = None) -> list[dict[str, Any]]:
    """A unit user reads its own unit's row (by=unit); a county coordinator its county's."""
    wanted = get_county(ctx.session, _clean(county, "县(市)")) if county else None
    own_county = coordinator_county_id(user)
    if user.role is Role.UNIT:
        if by.value != "unit" or user.unit is None:
            raise HTTPException(403, "单位用户只能查看本单位的统计(by=unit)")
        wanted = user.unit.county
    elif own_county is not None:
        if wanted is not None and wanted.id != own_county:
            raise NotFound("县(市)", wanted.name)
        wanted = ctx.session.get(County, own_county)
    rows = figures(ctx.session, by=by.value, as_of=ctx.now, calendar=ctx.calendar, policy=ctx.policy, county=wanted)
    bands = rank_bands(rows)
    if user.role is Role.UNIT:
        rows = [r for r in rows if r.key == user.unit.name]
    return [{**r.as_dict(), "uncertainty": bands[r.key].as_dict()} for r in rows]


@router.get("/estimates", summary="抽样推算:各县(市)、各类问题的村、户问题比例及 95% 区间,每百项问题")
def estimate_rows(ctx: Ctx, user: Caller, county: Annotated[str | None, Query(max_length=40)] = None,
                  inspection: Annotated[str | None, Query(max_length=80)] = None) -> list[dict[str, Any]]:
    """What the sampled villages and households say of the whole county (docs/reports.md). A
    county coordinator reads its own county; units read none."""
    if user.role is Role.UNIT:
        raise HTTPException(403, "抽样推算供督查办和领导查看")
    wanted = get_county(ctx.session, _clean(county, "县(市)")) if county else None
    own_county = coordinator_county_id(user)
    if own_county is not None:
        if wanted is not None and wanted.id != own_county:
            raise NotFound("县(市)", wanted.name)
        wanted = ctx.session.get(County, own_county)
    found = get_inspection(ctx.session, _clean(inspection, "督导")) if inspection else None
    return [e.as_dict() for e in estimates(ctx.session, as_of=ctx.now, county=wanted, inspection=found)]


@router.get("/issues", response_model=IssuePage, summary="问题清单(按权限范围、筛选、排序、分页)")
def issues(ctx: Ctx, user: Caller,
           county_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
           unit_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
           category: Annotated[str | None, Query(max_length=40)] = None,
           status: Status | None = None, light: Light | None = None, supervision: Supervision | None = None,
           overdue: bool = False, verification_late: bool = False,
           sort: SortName = "deadline",  # type: ignore[valid-type]
           page: Annotated[int, Query(ge=1, le=100000)] = 1,
           page_size: Annotated[int, Query(ge=1, le=500)] = 50) -> IssuePage:
    wanted = IssueFilter(county_id=county_id, unit_id=unit_id, category=_clean(category, "检查类别"), status=status,
                         light=light, supervision=supervision, overdue=overdue,
                         verification_late=verification_late, sort=sort)
    found, total = search_issues(ctx.session, scoped(user, wanted), today=ctx.today, calendar=ctx.calendar,
                                 policy=ctx.policy, offset=(page - 1) * page_size, limit=page_size)
    items = [
        _shown(issue_to_dict(i, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy, with_events=False), user)
        for i in found
    ]
    return IssuePage(total=total, page=page, page_size=page_size, items=items)


@router.get("/issues/{code}", summary="一个问题:全部经过、佐证材料、核验预警")
def issue(ctx: Ctx, user: Caller, code: Annotated[str, Path(max_length=24)]) -> dict[str, Any]:
    found = visible_issue(ctx.session, user, _clean(code, "问题编号"))
    load_issue_detail(ctx.session, found)
    data = _shown(issue_to_dict(found, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy), user)
    shown = sees_warnings(user)
    data["warnings"] = [w.to_dict() for w in warnings_for(ctx.session, user, suspicions(ctx.session, found,
                                                                                          ctx.policy))] if shown else []
    return data


@router.post("/issues/{code}/{step}", summary="对问题执行一步操作(与页面和命令行相同的规则)")
def take_step(ctx: Ctx, user: Caller, code: Annotated[str, Path(max_length=24)], step: StepName,  # type: ignore[valid-type]
              reason: Annotated[str, Form(max_length=MAX_TEXT)] = "",
              note: Annotated[str, Form(max_length=MAX_TEXT)] = "",
              measures: Annotated[str, Form(max_length=MAX_TEXT)] = "",
              cause: Annotated[str, Form(max_length=MAX_TEXT, description="原因分析")] = "",
              spread: Annotated[str, Form(max_length=MAX_TEXT, description="举一反三")] = "",
              rules: Annotated[str, Form(max_length=MAX_TEXT, description="建章立制")] = "",
              stages: Annotated[str, Form(max_length=MAX_TEXT,
                                          description="整改阶段,每行「YYYY-MM-DD 名称」;空则取消")] = "",
              until: Annotated[str, Form(max_length=10, description="延期至或暂缓至 YYYY-MM-DD")] = "",
              unit: Annotated[str, Form(max_length=80)] = "",
              deadline: Annotated[str, Form(max_length=10, description="整改时限 YYYY-MM-DD")] = "",
              level: Annotated[str, Form(max_length=10, description="黄牌 / 红牌 / 挂牌督办")] = "",
              assist: Annotated[str, Form(max_length=2000, description="协办单位,以、或逗号分隔;空则取消")] = "",
              expected_version: Annotated[int | None, Form(ge=1, le=INT_MAX)] = None,
              files: list[UploadFile] | None = None) -> dict[str, Any]:
    fields = {"reason": reason, "note": note, "measures": measures, "cause": cause, "spread": spread,
              "rules": rules, "stages": stages, "until": until, "unit": unit, "deadline": deadline, "level": level,
              "assist": assist}
    # The free text (reason, note, measures) is checked by the step itself, which names it.
    for key, label in (("until", "延期至或暂缓至"), ("unit", "责任单位"), ("deadline", "整改时限"),
                       ("level", "督办级别"), ("assist", "协办单位")):
        _clean(fields[key], label)
    _clean(code, "问题编号")
    with received(files, ctx.policy) as uploads:
        done = perform(ctx, user, code, step, fields, uploads, expected_version=expected_version)
    return _shown(
        issue_to_dict(done, today=ctx.today, calendar=ctx.calendar, policy=ctx.policy, with_events=False), user
    )
