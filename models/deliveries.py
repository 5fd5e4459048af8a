"""The delivery ledger: every message to send is a row before it is sent.

The unique key (recipient, kind, reason, day) makes queuing the same message twice a no-op.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, UTCDateTime, enum_column
from models.enums import DeliveryStatus, MessageKind
from models.org import Unit, User

_kind_type, _kind_check = enum_column(MessageKind, "kind")
_status_type, _status_check = enum_column(DeliveryStatus, "status")


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("recipient", "kind", "reason", "day"),
        _kind_check,
        _status_check,
        Index("ix_deliveries_status", "status"),
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
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[DeliveryStatus] = mapped_column(_status_type)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit | None] = relationship()
    user: Mapped[User | None] = relationship()


def queue_unit_notice(session: Session, *, unit: Unit, kind: MessageKind, reason: str, day: date,
                      issue_codes: list[str], now: datetime, context: dict[str, Any] | None = None) -> bool:
    """Queue one message for a unit unless the same (kind, reason, day) is already queued."""
    recipient = f"unit:{unit.id}"
    existing = session.scalar(select(Delivery.id).where(
        Delivery.recipient == recipient, Delivery.kind == kind, Delivery.reason == reason, Delivery.day == day))
    if existing is not None:
        return False
    session.add(Delivery(recipient=recipient, unit=unit, kind=kind, reason=reason, day=day,
                         issue_codes=sorted(issue_codes), context=context or {},
                         status=DeliveryStatus.QUEUED, attempts=0, created_at=now))
    return True
