"""The delivery ledger in the browser (发送台账): what was sent to whom, on which channel
(masked), whether it failed and why, and whether it was read. For the 督查办 and
administrators; a county's 督查办 sees the messages to its county's units and people."""

from __future__ import annotations

from fastapi import APIRouter, Request

from rectify.flows.channels import delivery_row
from rectify.models.deliveries import ledger_rows
from rectify.models.enums import Role
from rectify.notifications.ledger import Directory
from rectify.web.access import coordinator_county_id
from rectify.web.pages import current, render, work

router = APIRouter(include_in_schema=False)
SHOWN = 200


@router.get("/deliveries")
def deliveries_page(request: Request, show: str = ""):
    with work(request) as ctx:
        user = current(request, ctx, Role.COORDINATOR, Role.ADMIN)
        found, total = ledger_rows(ctx.session, failed=show == "failed", unread=show == "unread",
                                   county_id=coordinator_county_id(user), limit=SHOWN)
        directory = Directory.load(ctx.session)
        rows = [delivery_row(d, directory.name(d.recipient)) for d in found]
        return render(request, "deliveries.html", ctx, user, rows=rows, total=total, show=show)
