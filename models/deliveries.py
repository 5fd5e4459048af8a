"""The delivery ledger, the channels it delivers on, and the reminder cursors it moves.

Every message to send is a ledger row before it is sent. The unique key (recipient, kind,
reason, day) makes queuing the same message twice a no-op. A row is one section of the
digest its recipient receives in a run. A reminder cursor records, per problem and kind,
what was last delivered; it moves only when that delivery succeeded.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, relationship

from rectify.models.base import Base, UTCDateTime, enum_column
from rectify.models.enums import DeliveryStatus, MessageKind, ReadState
from rectify.models.org import Unit, User

_kind_type, _kind_check = enum_column(MessageKind, "kind")
_status_type, _status_check = enum_column(DeliveryStatus, "status")
_cursor_kind_type, _cursor_kind_check = enum_column(MessageKind, "kind")
_read_type, _read_check = enum_column(ReadState, "read_state")


class Recipient(NamedTuple):
    """Who a message is for: a unit (its channels) or a person. The ledger stores `key`."""

    kind: Literal["unit", "user"]
    id: int

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, key: str) -> Recipient:
        kind, _, number = key.partition(":")
        if kind not in ("unit", "user") or not number.isdigit():
            raise ValueError(f"not a recipient key: {key!r}")
        return cls(kind, int(number))  # type: ignore[arg-type]  # checked just above


def unit_key(unit_id: int) -> str:
    return Recipient("unit", unit_id).key


def user_key(user_id: int) -> str:
    return Recipient("user", user_id).key


class Channel(Base):
    """Where a unit or a person receives messages; lower priority numbers are tried first."""

    __tablename__ = "channels"
    __table_args__ = (
        CheckConstraint("(unit_id IS NULL) <> (user_id IS NULL)", name="one_owner"),
        Index("ix_channels_owner", "unit_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    url: Mapped[str] = mapped_column(Text)  # holds secrets: never printed or logged whole
    kind: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=10)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    unit: Mapped[Unit | None] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def recipient(self) -> str:
        return unit_key(self.unit_id) if self.unit_id is not None else user_key(self.user_id or 0)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("recipient", "kind", "reason", "day"),
        _kind_check,
        _status_check,
        _read_check,
        Index("ix_deliveries_status", "status", "next_attempt_at"),
        Index("ix_deliveries_read_state", "read_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "unit:<id>" or "user:<id>": one column so the unique key is plain.
    recipient: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[MessageKind] = mapped_column(_kind_type)
    reason: Mapped[str] = mapped_column(String(120))
    day: Mapped[date] = mapped_column(Date)
    issue_codes: Mapped[list[str]] = mapped_column(JSON)
    # What the message shows, fixed when queued: {"items": [...], ...}.
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[DeliveryStatus] = mapped_column(_status_type)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str | None] = mapped_column(String(200))  # masked
    # Per target tried: [{"channel": masked url, "ok": bool, "detail": str}].
    result: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    error: Mapped[str | None] = mapped_column(Text)
    # Channels that report reads (DingTalk work notices, Feishu app messages): what the service
    # answered when it took the message ({"channel_id", "service", "ref", "to"}), and what it
    # says of reading since. NULL for channels that cannot tell.
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    read_state: Mapped[ReadState | None] = mapped_column(_read_type)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit | None] = relationship()
    user: Mapped[User | None] = relationship()


class ReminderCursor(Base):
    """What was last delivered for a problem and a reminder kind.

    `on_date` is the deadline a due reminder was for, or the day of the last overdue notice;
    `moved_at` tells a sign-for reminder whether it predates the latest assignment.
    """

    __tablename__ = "reminder_cursors"
    __table_args__ = (_cursor_kind_check,)

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(_cursor_kind_type, primary_key=True)
    on_date: Mapped[date] = mapped_column(Date)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime)


def ledger_rows(session: Session, *, failed: bool = False, unread: bool = False, day: date | None = None,
                county_id: int | None = None, limit: int = 200) -> tuple[list[Delivery], int]:
    """The latest rows of the ledger (newest first) and how many match: failed ones waiting for
    a retry, unread ones, one day's; `county_id` keeps to messages for that county's units and
    people."""
    query = select(Delivery)
    if failed:
        query = query.where(Delivery.status == DeliveryStatus.FAILED)
    if unread:
        query = query.where(Delivery.read_state == ReadState.UNREAD)
    if day is not None:
        query = query.where(Delivery.day == day)
    if county_id is not None:
        person_unit = aliased(Unit)
        query = (query.outerjoin(Unit, Unit.id == Delivery.unit_id).outerjoin(User, User.id == Delivery.user_id)
                 .outerjoin(person_unit, person_unit.id == User.unit_id)
                 .where(or_(Unit.county_id == county_id, person_unit.county_id == county_id)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Delivery.id.desc()).limit(limit))), total
