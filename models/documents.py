"""The register of official documents (公文登记): every document rectify issues gets a number
(发文字号) once, per issuing office, kind and year; issuing the same document again (the same
kind for the same subject) finds its number instead of taking a new one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from rectify.models.base import Base, UTCDateTime, enum_column
from rectify.models.calendar import local_date
from rectify.models.enums import DocumentKind

_kind_type, _kind_check = enum_column(DocumentKind, "kind")

# The one character after the office's own in a 发文字号: 理督改〔2016〕3号.
KIND_MARK = {DocumentKind.NOTICE: "督改", DocumentKind.URGE: "督办", DocumentKind.RECONCILE: "督销",
             DocumentKind.REPORT: "督报", DocumentKind.BULLETIN: "督通"}


class IssuedDocument(Base):
    __tablename__ = "documents"
    __table_args__ = (
        _kind_check,
        UniqueConstraint("kind", "subject"),
        UniqueConstraint("issuer", "kind", "year", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(_kind_type)
    # What the document is about, stable across re-issues: "unit:12|day:2016-08-22".
    subject: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(80))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def reference(self) -> str:
        """The 发文字号, with the GB/T 9704 hexagonal brackets 〔〕 around the year."""
        return f"{self.issuer[:1]}{KIND_MARK[self.kind]}〔{self.year}〕{self.number}号"


def register(session: Session, *, kind: DocumentKind, subject: str, issuer: str, title: str, now: datetime,
             issued_by_id: int | None = None) -> IssuedDocument:
    """The register's entry for this document: found when issued before, else numbered next.
    Flushes; the caller commits."""
    found = session.scalars(select(IssuedDocument).where(IssuedDocument.kind == kind,
                                                         IssuedDocument.subject == subject)).first()
    if found is not None:
        return found
    year = local_date(now).year
    last = session.scalar(select(func.max(IssuedDocument.number)).where(
        IssuedDocument.issuer == issuer, IssuedDocument.kind == kind, IssuedDocument.year == year)) or 0
    entry = IssuedDocument(kind=kind, subject=subject[:200], issuer=issuer, year=year, number=last + 1,
                           title=title, issued_at=now, issued_by_id=issued_by_id)
    session.add(entry)
    session.flush()
    return entry
