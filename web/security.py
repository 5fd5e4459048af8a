"""Sessions, CSRF and the secret that signs the session cookie.

The cookie is Starlette's signed session (itsdangerous), HttpOnly and SameSite=Lax (Secure
when RECTIFY_COOKIE_SECURE=1, behind HTTPS). It holds the secret of a server-side session
(models.accounts.WebSession: logout, a password change or 8 hours end it, whatever copy of
the cookie is kept), a fingerprint of the password hash, and the CSRF token that every form
must send back.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from fastapi import HTTPException, Request

from rectify.models.accounts import end_session, open_session, session_holder
from rectify.models.db import rectify_home
from rectify.models.org import User

CSRF_FIELD = "csrf"
SESSION_HOURS = 8


def secret_key() -> str:
    """RECTIFY_SECRET_KEY, else a key kept in $RECTIFY_HOME/secret_key (made once, mode 0600).
    Several web workers or hosts must share it: set the variable or share the file."""
    if os.environ.get("RECTIFY_SECRET_KEY"):
        return os.environ["RECTIFY_SECRET_KEY"]
    path = Path(rectify_home()) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get(CSRF_FIELD)
    if not expected or not sent or not secrets.compare_digest(expected, sent):
        raise HTTPException(403, "表单缺少有效的安全令牌(CSRF),可能已过期或来自其他网站;请刷新页面后重试")


def fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def log_in(request: Request, session, user: User) -> None:
    request.session.clear()
    request.session.update({"sid": open_session(session, user), "pw": fingerprint(user),
                            CSRF_FIELD: secrets.token_urlsafe(32)})


def log_out(request: Request, session) -> None:
    secret = request.session.get("sid")
    if secret:
        end_session(session, secret)
    request.session.clear()


def session_user(request: Request, session) -> User | None:
    secret = request.session.get("sid")
    if not secret:
        return None
    user = session_holder(session, secret)
    if user is None or request.session.get("pw") != fingerprint(user):
        request.session.clear()
        return None
    return user
