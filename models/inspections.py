"""Inspections (督导), the places each one sampled, and every row its field team reported."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rectify.models.base import Base, UTCDateTime, enum_column
from rectify.models.catalogue import CheckItem
from rectify.models.enums import Result
from rectify.models.org import User
from rectify.models.places import County, Household, Township, Village

if TYPE_CHECKING:
    from rectify.models.issues import Issue

_result_type, _result_check = enum_column(Result, "result")


class Inspection(Base):
    """One team's visit to one county (or to all, when county is empty) within a campaign."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    campaign: Mapped[str] = mapped_column(String(80), index=True)
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"), index=True)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    county: Mapped[County | None] = relationship()
    leader: Mapped[User | None] = relationship()


class InspectionSample(Base):
    """A village (household_id empty) or a household drawn for an inspection's field visit."""

    __tablename__ = "inspection_samples"
    __table_args__ = (UniqueConstraint("inspection_id", "village_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)

    village: Mapped[Village] = relationship()
    household: Mapped[Household | None] = relationship()


class Finding(Base):
    """One imported workbook row: checked and passed, a problem, or a good practice.

    `row_key` identifies the row across re-imports (the team's 问题编号, else a hash of its
    content); `content_hash` tells whether a re-imported row changed.
    """

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("inspection_id", "row_key"),
        _result_check,
        Index("ix_findings_village", "village_id"),
        # The estimates add checks and problems up per county and village (models.estimates):
        # read in the index's order, from the index alone.
        Index("ix_findings_county_village_result", "county_id", "village_id", "result", "issue_id", "imported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"))
    row_key: Mapped[str] = mapped_column(String(80))
    content_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[Result] = mapped_column(_result_type)
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("townships.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    check_item_id: Mapped[int] = mapped_column(ForeignKey("check_items.id"))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    checked_on: Mapped[date | None] = mapped_column(Date)
    inspector: Mapped[str | None] = mapped_column(String(80))
    team: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A row recorded on the capture page: the phone's time and, when allowed, its position.
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    inspection: Mapped[Inspection] = relationship()
    county: Mapped[County] = relationship()
    township: Mapped[Township | None] = relationship()
    village: Mapped[Village | None] = relationship()
    household: Mapped[Household | None] = relationship()
    check_item: Mapped[CheckItem] = relationship()
    issue: Mapped[Issue | None] = relationship()  # models.issues imports this module: named for the checker only
