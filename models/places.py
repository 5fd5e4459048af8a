"""The places an inspection visits: county > township > village > household."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rectify.models.base import Base

if TYPE_CHECKING:
    from rectify.models.org import Unit


class County(Base):
    """A county-level unit of the prefecture (incl. 海螺沟景区管理局, which reports like one)."""

    __tablename__ = "counties"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    admin_code: Mapped[str] = mapped_column(String(12))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    townships: Mapped[list["Township"]] = relationship(back_populates="county")


class Township(Base):
    __tablename__ = "townships"
    __table_args__ = (UniqueConstraint("county_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))

    county: Mapped[County] = relationship(back_populates="townships")
    villages: Mapped[list["Village"]] = relationship(back_populates="township")


class Village(Base):
    """A village with its 五个一 assistance; its 帮扶单位 is the default responsible unit."""

    __tablename__ = "villages"
    __table_args__ = (UniqueConstraint("township_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("townships.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    is_poor: Mapped[bool] = mapped_column(default=True)
    planned_exit_year: Mapped[int | None] = mapped_column(Integer)
    assisting_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    county_leader: Mapped[str | None] = mapped_column(String(40))
    first_secretary: Mapped[str | None] = mapped_column(String(40))
    work_team: Mapped[str | None] = mapped_column(String(80))
    agronomist: Mapped[str | None] = mapped_column(String(40))
    # Where the village is (its committee's seat), for the photos' positions to be held against.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    township: Mapped[Township] = relationship(back_populates="villages")
    assisting_unit: Mapped[Unit | None] = relationship()
    households: Mapped[list["Household"]] = relationship(back_populates="village")


class Household(Base):
    """A 建档立卡 poor household."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"), index=True)
    registry_no: Mapped[str] = mapped_column(String(32), unique=True)
    head_name: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    planned_exit_year: Mapped[int | None] = mapped_column(Integer)

    village: Mapped[Village] = relationship(back_populates="households")


def mask_name(name: str | None) -> str | None:
    """张三 -> 张*, 扎西次仁 -> 扎***: household names never leave the system whole."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def place_text(county: str, township: str | None = None, village: str | None = None,
               head_name: str | None = None) -> str:
    """How a message or a report names a place: 县 / 乡 / 村 / 户主 (the head's name masked)."""
    return " / ".join(p for p in (county, township, village, mask_name(head_name)) if p)


def place_of(thing, *, household: bool = False) -> str:
    """place_text for anything with county / township / village (and household) relationships."""
    head = thing.household.head_name if household and thing.household is not None else None
    return place_text(thing.county.name, thing.township.name if thing.township else None,
                      thing.village.name if thing.village else None, head)
