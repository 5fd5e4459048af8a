"""Credentials: password hashes (Argon2), web sessions and API tokens (both stored as SHA-256
of a random secret, both ending), and the record of login attempts (models.throttle slows guessing).
The web and the CLI call these; nothing else touches a password.

Security clocks use the real time, never a command's --as-of: a session opened on a training
copy that runs in 2016 still ends 8 hours after it began, and a token after its days."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, ForeignKey, Index, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from rectify.models.base import Base, UTCDateTime
from rectify.models.enums import Role
from rectify.models.errors import InvalidInput
from rectify.models.org import Unit, User
from rectify.models.places import County

HASHER = PasswordHasher()
MIN_PASSWORD = 8
SESSION_LIFETIME = timedelta(hours=8)
TOKEN_DAYS = 90  # a new API token's life unless asked otherwise
SEEN_EVERY = timedelta(minutes=10)  # how stale a token's last use may be before it is written again


def real_now() -> datetime:
    return datetime.now(UTC)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an administrator unlocked it

    __table_args__ = (Index("ix_login_attempts_address_at", "address", "at"),)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class WebSession(Base):
    """A browser's login: the cookie carries the secret, the server keeps its hash and ends it
    (logout, password change, expiry)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


def add_user(session: Session, name: str, *, role: Role, unit: Unit | None = None, display_name: str | None = None,
             linked_county: County | None = None, password: str | None = None) -> User:
    """A new user: a unit's 经办人 needs its unit; names are unique; no password means no web login."""
    name = name.strip()
    if not name:
        raise InvalidInput("请填写用户名", field="name")
    if role is Role.UNIT and unit is None:
        raise InvalidInput("责任单位经办人必须指明所在单位", field="unit")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise InvalidInput(f"用户「{name}」已存在", field="name")
    user = User(name=name, display_name=display_name or None, role=role, unit=unit, linked_county=linked_county,
                active=True)
    if password is not None:
        set_password(user, password)
    session.add(user)
    session.flush()
    return user


def set_unit_head(user: User, head: bool) -> None:
    """单位负责人: only a unit's user can be its head; a unit may have several."""
    if head and (user.role is not Role.UNIT or user.unit_id is None):
        raise InvalidInput(f"{user.name} 不是责任单位的用户,不能设为单位负责人", field="unit_head")
    user.unit_head = head


def set_active(session: Session, user: User, active: bool) -> None:
    """Deactivating ends the user's sessions and tokens at once (both also check `active`)."""
    user.active = active
    if not active:
        end_sessions(session, user)
        revoke_tokens(session, user)


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 个字符")
    user.password_hash = HASHER.hash(password)


def stored_hash(user: User | None) -> str | None:
    """The hash a login is checked against: none for an unknown or inactive name."""
    return user.password_hash if user is not None and user.active else None


def password_matches(password_hash: str | None, password: str) -> bool:
    """Argon2 (64 MiB, slow on purpose). Without a hash it hashes anyway: an unknown name costs
    what a known one does, so the time tells nothing about which names exist."""
    if not password_hash:
        HASHER.hash(password)
        return False
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def record_attempt(session: Session, name: str, *, address: str | None, now: datetime, ok: bool) -> None:
    session.add(LoginAttempt(name=name[:80], address=(address or "")[:64], at=now, ok=ok))


def new_token(session: Session, user: User, *, label: str | None = None, days: int = TOKEN_DAYS) -> str:
    """A fresh API token for `user`, ending after `days`; only its hash is kept, so it is shown once."""
    if days < 1:
        raise InvalidInput("令牌有效期至少 1 天", field="days")
    now = real_now()
    token = "rt_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=_digest(token), label=label, created_at=now,
                         expires_at=now + timedelta(days=days)))
    return token


def token_user(session: Session, token: str) -> User | None:
    """The token's user while it is neither revoked nor expired; its last use is noted."""
    now = real_now()
    row = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == _digest(token),
                                                 ApiToken.revoked_at.is_(None))).one_or_none()
    if row is None or not row.user.active or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.last_used_at is None or now - row.last_used_at > SEEN_EVERY:
        row.last_used_at = now
    return row.user


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def live_token_counts(session: Session, user_ids: list[int]) -> dict[int, int]:
    """How many tokens each user has that still work (neither revoked nor expired), in one query."""
    now = real_now()
    rows = session.execute(
        select(ApiToken.user_id, func.count()).where(
            ApiToken.user_id.in_(user_ids), ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))
        .group_by(ApiToken.user_id)).all()
    return {user_id: count for user_id, count in rows}


def revoke_tokens(session: Session, user: User, *, token_id: int | None = None) -> int:
    """Revoke one of the user's tokens (by its number), or all that are still live; how many."""
    now = real_now()
    live = [t for t in tokens_of(session, user) if t.revoked_at is None and (token_id is None or t.id == token_id)]
    if token_id is not None and not live:
        raise InvalidInput(f"{user.name} 没有编号为 {token_id} 的有效令牌", field="token")
    for row in live:
        row.revoked_at = now
    return len(live)


def open_session(session: Session, user: User) -> str:
    """A new web session for `user`: the secret for the cookie (only its hash is kept)."""
    now = real_now()
    secret = secrets.token_urlsafe(32)
    session.add(WebSession(token_sha256=_digest(secret), user_id=user.id, created_at=now,
                           expires_at=now + SESSION_LIFETIME))
    return secret


def session_holder(session: Session, secret: str) -> User | None:
    """The user of a live session (not ended, not expired, the user active)."""
    row = session.scalars(select(WebSession).where(WebSession.token_sha256 == _digest(secret))).one_or_none()
    if row is None or row.ended_at is not None or row.expires_at <= real_now() or not row.user.active:
        return None
    return row.user


def end_session(session: Session, secret: str) -> None:
    session.execute(update(WebSession).where(WebSession.token_sha256 == _digest(secret),
                                             WebSession.ended_at.is_(None)).values(ended_at=real_now()))


def end_sessions(session: Session, user: User) -> int:
    """End every live session of the user (a password change, a deactivation); how many."""
    live = list(session.scalars(select(WebSession).where(WebSession.user_id == user.id,
                                                         WebSession.ended_at.is_(None))))
    now = real_now()
    for row in live:
        row.ended_at = now
    return len(live)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
