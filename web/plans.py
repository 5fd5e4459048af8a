"""Drawing an inspection's sample and its field workbook in the browser (`rectify plan`), and the
coverage of the year's planned-exit villages (`rectify coverage`): the same model functions.
A county's 督查办 plans and sees its own county only."""

from __future__ import annotations

import shutil

from fastapi import APIRouter, Form, Request
from sqlalchemy import select

from rectify.flows.intake.plan import make_plan
from rectify.models.enums import Role
from rectify.models.errors import DomainError, InvalidInput
from rectify.models.org import User
from rectify.models.places import County
from rectify.models.sampling import coverage, coverage_by_county
from rectify.web.access import coordinator_county_id
from rectify.web.imports import kept_folder, kept_url
from rectify.web.pages import current, render, work
from rectify.web.security import check_csrf
from rectify.web.wording import message_of

router = APIRouter(include_in_schema=False)


def _choices(session, user) -> dict:
    own = coordinator_county_id(user)
    counties = [c.name for c in session.scalars(select(County).order_by(County.sort_order))
                if own is None or c.id == own]
    leaders = list(session.scalars(select(User.name).where(User.role == Role.TEAM_LEADER, User.active.is_(True))
                                   .order_by(User.name)))
    return {"counties": counties, "whole": own is None, "leaders": leaders}


@router.get("/coordinator/plan")
def plan_page(request: Request):
    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        return render(request, "plan.html", ctx, user, **_choices(ctx.session, user), form={})


@router.post("/coordinator/plan")
def draw_plan(request: Request, inspection: str = Form(""), county: str = Form(""), villages: int = Form(10),
              households: int = Form(10), seed: int = Form(2016), leader: str = Form(""), csrf: str = Form("")):
    check_csrf(request, csrf)
    form = {"inspection": inspection, "county": county, "villages": villages, "households": households,
            "seed": seed, "leader": leader}
    folder = None
    try:
        with work(request) as ctx:  # a refusal raises out of it: nothing drawn is kept
            user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
            choices = _choices(ctx.session, user)
            if not inspection.strip():
                raise InvalidInput("请填写督导名称", field="inspection")
            if county not in choices["counties"] and not (choices["whole"] and county == ""):
                raise InvalidInput(f"「{county or '全州'}」不在您可以抽样的范围内", field="county")
            if not (1 <= villages <= 100 and 0 <= households <= 100):
                raise InvalidInput("每县抽取的村须在 1–100 之间,每村抽取的户须在 0–100 之间", field="villages")
            name = f"{inspection.strip()}-检查表.xlsx"
            folder = kept_folder(user.id, name=name, inspection=inspection.strip())
            result = make_plan(ctx, inspection=inspection.strip(), county=county or None, villages=villages,
                               households=households, seed=seed, out=folder / name, leader=leader or None)
            return render(request, "plan.html", ctx, user, form=form, result=result,
                          download=kept_url(folder, name), **choices)
    except DomainError as exc:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        error = message_of(exc)
    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        return render(request, "plan.html", ctx, user, status=400, error=error, form=form,
                      **_choices(ctx.session, user))


@router.get("/coverage")
def coverage_page(request: Request, year: int | None = None):
    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN, Role.LEADER)
        own = coordinator_county_id(user)
        county = ctx.session.get(County, own) if own is not None else None
        year = year or ctx.today.year
        villages = coverage(ctx.session, year=year, county=county)
        return render(request, "coverage.html", ctx, user, year=year, rows=coverage_by_county(villages),
                      uncovered=[v for v in villages if not v.inspected] if county else [],
                      county=county.name if county else None)
