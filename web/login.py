"""Logging in and out.

A login goes through three steps. The throttle is read first (models.throttle), and a refused
try stops there, before any hashing. The password is then checked under a bound of its own
(`HASHING` at a time per worker, `MAX_WAITING` more admitted, the rest told to come back): each
Argon2 check takes 64 MiB and a core, and an attacker's flood must not take the memory or the
thread pool the pages run in. Waiting for the bound costs no thread. Last, the attempt is
recorded and the session opened, in a transaction that only writes (on SQLite a read
transaction that later writes fails when another login committed in between).
"""

from __future__ import annotations

import asyncio
import logging
from weakref import WeakKeyDictionary

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from rectify.models.accounts import password_matches, real_now, record_attempt, stored_hash
from rectify.models.lookup import find_user
from rectify.models.org import User
from rectify.models.throttle import login_wait
from rectify.web.pages import HOME, local_path, render, work
from rectify.web.security import check_csrf, log_in, log_out
from rectify.web.wording import wait_text

router = APIRouter(include_in_schema=False)
log = logging.getLogger("rectify.security")
HASHING = 1  # Argon2 checks at a time per worker (each may use two cores' lanes)
MAX_WAITING = 32


class Bound:
    """A worker's logins in progress (one bound per event loop: a worker runs one loop, a test
    client may run one per request). Counted from the start of a login, on the loop itself, so
    a burst is refused at once rather than after each checked the throttle."""

    def __init__(self) -> None:
        self.hashing = CapacityLimiter(HASHING)
        self.admitted = 0


_bounds: WeakKeyDictionary[asyncio.AbstractEventLoop, Bound] = WeakKeyDictionary()


def worker_bound() -> Bound:
    return _bounds.setdefault(asyncio.get_running_loop(), Bound())


@router.get("/login")
async def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", None, None, next=local_path(next, "/"))


@router.post("/login")
async def login(request: Request, name: str = Form(""), password: str = Form(""), csrf: str = Form(""),
                next: str = Form("/")):
    check_csrf(request, csrf)
    address = (request.client.host if request.client else "")[:64]
    name = name.strip()[:80]
    target = local_path(next, "/")

    def refuse(status: int, error: str, retry: int | None = None):
        response = render(request, "login.html", None, None, status=status, error=error, name=name, next=target)
        if retry:
            response.headers["Retry-After"] = str(retry)
        return response

    def throttle() -> tuple[int | None, str | None, int | None, str | None]:
        with work(request) as ctx:
            wait = login_wait(ctx.session, name, address, now=real_now())
            if wait:
                log.warning("login refused for %r from %s: %s, %d s", name, address, wait.reason, wait.seconds)
                return wait.seconds, None, None, None
            user = find_user(ctx.session, name) if name else None
            return None, stored_hash(user), user.id if user else None, HOME.get(user.role, "/issues") if user else None

    bound = worker_bound()
    if bound.admitted >= HASHING + MAX_WAITING:  # the cheapest refusal first
        return refuse(503, "此刻登录的人太多,请稍候几秒再试", 5)
    bound.admitted += 1
    try:
        wait, password_hash, user_id, home = await to_thread.run_sync(throttle)
        if wait:
            return refuse(429, f"登录尝试过于频繁,请 {wait_text(wait)}后再试;如确是本人,可请管理员解除限制", wait)
        ok = await to_thread.run_sync(password_matches, password_hash, password, limiter=bound.hashing)
    finally:
        bound.admitted -= 1

    def record() -> None:
        with work(request) as ctx:
            record_attempt(ctx.session, name, address=address, now=real_now(), ok=ok)
            if ok:
                log_in(request, ctx.session, ctx.session.get(User, user_id))

    await to_thread.run_sync(record)
    if not ok:
        return refuse(401, "用户名或密码不正确")
    return RedirectResponse(home if target == "/" else target, status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")):
    check_csrf(request, csrf)
    with work(request) as ctx:
        log_out(request, ctx.session)
    return RedirectResponse("/login", status_code=303)
