"""Credentials: password hashes (Argon2), API tokens (stored as SHA-256), and the record of
login attempts that rate-limits guessing. The web and the CLI call these; nothing else
touches a password."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from rectify.models.base import Base, UTCDateTime
from rectify.models.errors import InvalidInput
from rectify.models.org import User

HASHER = PasswordHasher()
MIN_PASSWORD = 8
# Failed logins for one name within the window before further tries are refused.
MAX_FAILURES, FAILURE_WINDOW = 5, timedelta(minutes=15)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 个字符")
    user.password_hash = HASHER.hash(password)


def password_matches(user: User | None, password: str) -> bool:
    if user is None or not user.active or not user.password_hash:
        HASHER.hash(password)  # the same work either way: no timing hint whether the name exists
        return False
    try:
        return HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def recent_failures(session: Session, name: str, *, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.name == name, LoginAttempt.ok.is_(False), LoginAttempt.at > now - FAILURE_WINDOW)) or 0


def record_attempt(session: Session, name: str, *, address: str | None, now: datetime, ok: bool) -> None:
    session.add(LoginAttempt(name=name[:80], address=(address or "")[:64], at=now, ok=ok))


def new_token(session: Session, user: User, *, now: datetime, label: str | None = None) -> str:
    """A fresh API token for `user`; only its hash is kept, so it is shown once."""
    token = "rt_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=_digest(token), label=label, created_at=now))
    return token


def token_user(session: Session, token: str) -> User | None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == _digest(token),
                                                 ApiToken.revoked_at.is_(None))).one_or_none()
    return row.user if row is not None and row.user.active else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
