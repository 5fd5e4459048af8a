"""Accountability referrals (问责线索): a problem that reached 挂牌督办 goes to the discipline office."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime
from models.issues import Issue


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("issue_id", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"))
    reason: Mapped[str] = mapped_column(String(40))  # "listed": 挂牌督办
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    issue: Mapped[Issue] = relationship()
