"""Logging in and out, and changing one's own password.

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

from rectify.models.accounts import (
    MIN_PASSWORD,
    end_sessions,
    password_matches,
    real_now,
    record_attempt,
    set_password,
    stored_hash,
)
from rectify.models.errors import DomainError
from rectify.models.lookup import find_user
from rectify.models.org import User
from rectify.models.throttle import login_wait
from rectify.web.pages import HOME, current, local_path, render, work
from rectify.web.security import check_csrf, log_in, log_out
from rectify.web.wording import message_of, wait_text

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


@router.get("/account/password")
def password_page(request: Request):
    with work(request) as ctx:
        return render(request, "password.html", ctx, current(request, ctx), min_length=MIN_PASSWORD)


@router.post("/account/password")
async def change_password(request: Request, current_password: str = Form("", alias="current"),
                          new: str = Form(""), again: str = Form(""), csrf: str = Form("")):
    """Every user's own: the current password checked (under the worker's hashing bound), then
    the new one set; every session of the user ends and this browser gets a fresh one."""
    check_csrf(request, csrf)

    def holder() -> tuple[int, str | None]:
        with work(request) as ctx:
            user = current(request, ctx)
            return user.id, user.password_hash

    user_id, password_hash = await to_thread.run_sync(holder)
    ok = await to_thread.run_sync(password_matches, password_hash, current_password, limiter=worker_bound().hashing)

    def change() -> str | None:
        with work(request) as ctx:
            user = ctx.session.get(User, user_id)
            if not ok:
                return "当前密码不正确"
            if new != again:
                return "两次输入的新密码不一致"
            if new == current_password:
                return "新密码不能与当前密码相同"
            try:
                set_password(user, new)
            except DomainError as exc:
                return message_of(exc)
            end_sessions(ctx.session, user)
            log_in(request, ctx.session, user)
            request.session["flash"] = ["ok", "密码已修改;其他设备上的登录已全部退出"]
            return None

    error = await to_thread.run_sync(change)
    if error is None:
        return RedirectResponse("/", status_code=303)
    with work(request) as ctx:
        return render(request, "password.html", ctx, current(request, ctx), status=400, error=error,
                      min_length=MIN_PASSWORD)


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")):
    check_csrf(request, csrf)
    with work(request) as ctx:
        log_out(request, ctx.session)
    return RedirectResponse("/login", status_code=303)
