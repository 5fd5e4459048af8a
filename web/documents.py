"""The official documents (公文, .docx) to download in the browser, made on request by the same
code as `rectify doc`. A unit's 经办人 gets its own unit's; a county's 督查办 any unit's, kept
to its county's problems, and its county's report; the prefecture's 督查办, leaders and
administrators everything. The scope is the server's: what a link asks for is narrowed."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from rectify.flows.clock import parse_date
from rectify.flows.reports.official import Clock, Written, notice, reconcile, report, urge
from rectify.models.enums import Role, Supervision
from rectify.models.errors import InvalidInput, PermissionDenied
from rectify.models.lookup import get_county, get_inspection, get_unit
from rectify.models.org import Unit
from rectify.models.places import County
from rectify.web.access import coordinator_county_id
from rectify.web.downloads import attachment
from rectify.web.imports import check_own_inspection, inspections_for
from rectify.web.pages import current, render, work

router = APIRouter(include_in_schema=False)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
READERS = (Role.UNIT, Role.COORDINATOR, Role.LEADER, Role.ADMIN)
LEVELS = (Supervision.YELLOW, Supervision.RED, Supervision.LISTED)


def _unit_for(ctx, user, asked: str) -> Unit:
    """A unit's 经办人 gets its own unit whatever was asked; others the unit named."""
    if user.role is Role.UNIT:
        if user.unit is None:
            raise PermissionDenied("您的账号没有所属单位")
        return user.unit
    if not asked.strip():
        raise InvalidInput("请选择责任单位", field="unit")
    return get_unit(ctx.session, asked)


def _county_of(ctx, user) -> County | None:
    own = coordinator_county_id(user)
    return ctx.session.get(County, own) if own is not None else None


def _send(written: Written) -> Response:
    return Response(written.path.read_bytes(), media_type=DOCX, headers=attachment(written.path.name))


@router.get("/documents")
def documents_page(request: Request):
    with work(request) as ctx:
        user = current(request, ctx, *READERS)
        own = _county_of(ctx, user)
        units: list[str] = []
        if user.role is not Role.UNIT:
            query = select(Unit.name).order_by(Unit.name)
            if own is not None:
                query = query.where((Unit.county_id == own.id) | Unit.county_id.is_(None))
            units = list(ctx.session.scalars(query))
        counties = [c.name for c in ctx.session.scalars(select(County).order_by(County.sort_order))
                    if own is None or c.id == own.id]
        today = ctx.today
        return render(request, "documents.html", ctx, user, units=units, counties=counties, levels=LEVELS,
                      inspections=[] if user.role is Role.UNIT else inspections_for(ctx.session, user),
                      since=today.replace(day=1).isoformat(), until=today.isoformat(),
                      own_unit=user.unit.name if user.role is Role.UNIT and user.unit else None)


@router.get("/documents/notice.docx")
def notice_file(request: Request, unit: str = "", inspection: str = "", day: str = ""):
    with work(request) as ctx, tempfile.TemporaryDirectory() as folder:
        user = current(request, ctx, *READERS)
        found = _unit_for(ctx, user, unit)
        wanted = get_inspection(ctx.session, inspection) if inspection.strip() else None
        written = notice(ctx.session, found, Path(folder) / f"整改通知书-{found.name}.docx",
                         clock=Clock(ctx.now, ctx.calendar, ctx.policy), inspection=wanted,
                         day=parse_date(day, what="交办日期") if day.strip() else None, county=_county_of(ctx, user),
                         actor=user)
        return _send(written)


@router.get("/documents/urge.docx")
def urge_file(request: Request, level: str, unit: str = "", day: str = ""):
    with work(request) as ctx, tempfile.TemporaryDirectory() as folder:
        user = current(request, ctx, *READERS)
        found = _unit_for(ctx, user, unit)
        try:
            wanted = Supervision.parse(level)
        except ValueError:
            raise InvalidInput(f"督办级别「{level}」无效,可选:黄牌、红牌、挂牌督办", field="supervision") from None
        written = urge(ctx.session, found, wanted, Path(folder) / f"{wanted.label}督办单-{found.name}.docx",
                       clock=Clock(ctx.now, ctx.calendar, ctx.policy),
                       day=parse_date(day, what="升级日期") if day.strip() else None, county=_county_of(ctx, user),
                       actor=user)
        return _send(written)


@router.get("/documents/reconcile.docx")
def reconcile_file(request: Request, since: str = "", until: str = "", unit: str = ""):
    with work(request) as ctx, tempfile.TemporaryDirectory() as folder:
        user = current(request, ctx, *READERS)
        found = _unit_for(ctx, user, unit)
        last = parse_date(until, what="结束日期") if until.strip() else ctx.today
        first = parse_date(since, what="开始日期") if since.strip() else last - timedelta(days=30)
        written = reconcile(ctx.session, found, Path(folder) / f"对账销号单-{found.name}.docx",
                            clock=Clock(ctx.now, ctx.calendar, ctx.policy), since=first, until=last,
                            county=_county_of(ctx, user), actor=user)
        return _send(written)


@router.get("/documents/report.docx")
def report_file(request: Request, county: str = "", inspection: str = ""):
    with work(request) as ctx, tempfile.TemporaryDirectory() as folder:
        user = current(request, ctx, Role.COORDINATOR, Role.LEADER, Role.ADMIN)
        own = _county_of(ctx, user)
        wanted_inspection = get_inspection(ctx.session, inspection) if inspection.strip() else None
        wanted_county = get_county(ctx.session, county) if county.strip() else None
        if wanted_inspection is not None:
            check_own_inspection(user, wanted_inspection)
            wanted_county = None
        elif own is not None:
            wanted_county = own  # a county's 督查办 reports on its own county, whatever was asked
        name = wanted_county.name if wanted_county else (wanted_inspection.name if wanted_inspection else "")
        written = report(ctx.session, Path(folder) / f"整改情况报告-{name}.docx",
                         clock=Clock(ctx.now, ctx.calendar, ctx.policy), county=wanted_county,
                         inspection=wanted_inspection, actor=user)
        return _send(written)
