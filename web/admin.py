"""Administration in the browser, for administrators. Users: add one, reset a password, clear a
login lock, deactivate or reactivate, revoke API tokens (the same model functions as `rectify
user …`; every change ends what it must, sessions and tokens, on the server). Channels: add,
test, remove, with addresses shown masked (flows/channels.py, as `rectify channel …`)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import or_, select

from rectify.models.accounts import (
    add_user,
    end_sessions,
    live_token_counts,
    real_now,
    revoke_tokens,
    set_active,
    set_password,
    set_unit_head,
)
from rectify.models.enums import Role
from rectify.models.errors import DomainError, InvalidInput, NotFound
from rectify.models.lookup import find_user, get_unit, get_user
from rectify.models.org import User, mask_phone, normalise_phone
from rectify.models.throttle import unlock
from rectify.web.pages import current, render, work
from rectify.web.security import check_csrf
from rectify.web.wording import message_of

router = APIRouter(include_in_schema=False)
SHOWN = 100


@router.get("/admin/users")
def users_page(request: Request, q: str = "", role: str = ""):
    with work(request) as ctx:
        admin = current(request, ctx, Role.ADMIN)
        query = select(User).order_by(User.role, User.name).limit(SHOWN)
        if q.strip():
            query = query.where(or_(User.name.contains(q.strip()), User.display_name.contains(q.strip())))
        if role in {r.value for r in Role}:
            query = query.where(User.role == Role(role))
        found = list(ctx.session.scalars(query))
        live = live_token_counts(ctx.session, [u.id for u in found])
        users = [(u, live.get(u.id, 0)) for u in found]
        return render(request, "admin_users.html", ctx, admin, users=users, q=q, role=role, roles=list(Role),
                      shown=SHOWN, mask_phone=mask_phone)


@router.post("/admin/users")
def add(request: Request, name: str = Form(""), role: str = Form(""), unit: str = Form(""),
        display_name: str = Form(""), password: str = Form(""), csrf: str = Form("")):
    check_csrf(request, csrf)
    try:
        with work(request) as ctx:  # a refusal raises out of it: nothing is written
            current(request, ctx, Role.ADMIN)
            if role not in {r.value for r in Role}:
                raise InvalidInput("请选择角色", field="role")
            place = get_unit(ctx.session, unit.strip()) if unit.strip() else None
            user = add_user(ctx.session, name, role=Role(role), unit=place,
                            display_name=display_name.strip() or None, password=password or None)
            request.session["flash"] = ["ok", f"已添加用户 {user.name}({user.role.label})"
                                        + ("" if password else ",未设密码,不能登录网页")]
    except DomainError as exc:
        request.session["flash"] = ["error", message_of(exc)]
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/{step}")
def change(request: Request, name: str, step: str, password: str = Form(""), phone: str = Form(""),
           csrf: str = Form("")):
    check_csrf(request, csrf)
    try:
        with work(request) as ctx:  # a refusal raises out of it: nothing is written
            admin = current(request, ctx, Role.ADMIN)
            user = find_user(ctx.session, name)  # an inactive user too: it may be reactivated
            if user is None:
                raise NotFound("用户", name)
            if step == "password":
                set_password(user, password)
                ended = end_sessions(ctx.session, user)
                said = f"已重置 {name} 的密码,结束其登录会话 {ended} 个"
            elif step == "unlock":
                said = f"已解除 {name} 的登录限制(清除失败记录 {unlock(ctx.session, now=real_now(), name=name)} 条)"
            elif step in ("deactivate", "activate"):
                if user.id == admin.id:
                    raise InvalidInput("不能停用自己的账号")
                set_active(ctx.session, user, step == "activate")
                said = f"已{'启用' if step == 'activate' else '停用'} {name}" + (
                    "" if step == "activate" else ",其会话与令牌已全部结束")
            elif step == "phone":
                user.phone = normalise_phone(phone)
                said = f"{name} 的手机号:{mask_phone(user.phone)}"
            elif step in ("head", "not-head"):
                set_unit_head(user, step == "head")
                said = f"{name} {'已设为' if step == 'head' else '已不再是'}单位负责人(销号申请按政策先经其审核)"
            elif step == "revoke-tokens":
                said = f"已作废 {name} 的 API 令牌 {revoke_tokens(ctx.session, user)} 个"
            else:
                raise InvalidInput(f"未知的操作「{step}」")
            request.session["flash"] = ["ok", said]
    except DomainError as exc:
        request.session["flash"] = ["error", message_of(exc)]
    return RedirectResponse(f"/admin/users?q={quote(name)}", status_code=303)


@router.get("/admin/channels")
def channels_page(request: Request, q: str = ""):
    from rectify.flows.channels import channel_row
    from rectify.models.deliveries import Channel

    with work(request) as ctx:
        admin = current(request, ctx, Role.ADMIN)
        query = select(Channel).order_by(Channel.unit_id, Channel.user_id, Channel.priority, Channel.id).limit(SHOWN)
        rows = [channel_row(c) for c in ctx.session.scalars(query)]
        if q.strip():
            rows = [r for r in rows if q.strip() in r["owner"]]
        return render(request, "admin_channels.html", ctx, admin, channels=rows, q=q)


@router.post("/admin/channels")
def channel_add(request: Request, owner: str = Form(""), owner_kind: str = Form("unit"), url: str = Form(""),
                priority: int = Form(10), csrf: str = Form("")):
    from rectify.flows.channels import add_channel, channel_row

    check_csrf(request, csrf)
    try:
        with work(request) as ctx:  # a refusal raises out of it: nothing is written
            current(request, ctx, Role.ADMIN)
            whose = {"unit": get_unit(ctx.session, owner.strip())} if owner_kind == "unit" else {
                "user": get_user(ctx.session, owner.strip())}
            row = channel_row(add_channel(ctx, url, priority=priority, **whose))
            request.session["flash"] = ["ok", f"已为 {row['owner']} 添加{row['kind']}渠道 #{row['id']}:{row['url']}"]
    except DomainError as exc:
        request.session["flash"] = ["error", message_of(exc)]
    return RedirectResponse("/admin/channels", status_code=303)


@router.post("/admin/channels/{channel_id}/{step}")
def channel_change(request: Request, channel_id: int, step: str, csrf: str = Form("")):
    from rectify.flows.channels import get_channel, send_test, test_message

    check_csrf(request, csrf)
    try:
        with work(request) as ctx:
            current(request, ctx, Role.ADMIN)
            channel = get_channel(ctx, channel_id)
            if step == "remove":
                ctx.session.delete(channel)
                request.session["flash"] = ["ok", f"已删除渠道 #{channel_id}"]
            elif step == "test":
                url, title, body = test_message(ctx, channel)
            else:
                raise InvalidInput(f"未知的操作「{step}」")
        if step == "test":  # sent outside the transaction: a slow provider holds no lock
            attempt = send_test(url, title, body)
            request.session["flash"] = (["ok", f"测试消息已送达 {attempt.channel}"] if attempt.ok
                                        else ["error", f"发送失败:{attempt.detail}({attempt.channel})"])
    except DomainError as exc:
        request.session["flash"] = ["error", message_of(exc)]
    return RedirectResponse("/admin/channels", status_code=303)
