"""Accountability referrals (问责线索): problems that reached 挂牌督办 or kept coming back go to the
discipline office."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from rectify.models.base import Base, UTCDateTime
from rectify.models.issues import Issue


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("issue_id", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"))
    reason: Mapped[str] = mapped_column(String(40))  # a key of REASONS
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    issue: Mapped[Issue] = relationship()


REASONS = {"listed": "挂牌督办", "reopened": "多次反弹"}


def refer(session: Session, issue_ids: set[int], *, reason: str, note: str, now: datetime) -> int:
    """Record a referral for each problem that has none for `reason` yet; returns how many."""
    known = set(session.scalars(select(Referral.issue_id).where(Referral.issue_id.in_(issue_ids),
                                                                Referral.reason == reason)))
    fresh = [{"issue_id": i, "reason": reason, "note": note, "created_at": now} for i in sorted(issue_ids - known)]
    if fresh:
        session.execute(insert(Referral), fresh)
    return len(fresh)
