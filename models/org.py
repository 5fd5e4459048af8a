"""Responsible units and the people who use the system."""

from __future__ import annotations

import re

from sqlalchemy import Boolean, ForeignKey, String, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from rectify.models.base import Base, enum_column
from rectify.models.enums import Role, UnitKind
from rectify.models.errors import InvalidInput
from rectify.models.places import County

_unit_kind_type, _unit_kind_check = enum_column(UnitKind, "kind")
_role_type, _role_check = enum_column(Role, "role")


class Unit(Base):
    """A 责任单位: county government or department, township, prefecture office, 帮扶单位."""

    __tablename__ = "units"
    __table_args__ = (_unit_kind_check,)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[UnitKind] = mapped_column(_unit_kind_type)
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"), index=True)

    county: Mapped[County | None] = relationship()


# The 督查办 that follows a unit's problems up: its county's, or the prefecture's for a unit
# without a county. Messages name it as whom to ask; documents as their issuing office.
PREFECTURE_OFFICE = "甘孜州督查办"


def office_of(county_name: str | None) -> str:
    return f"{county_name}督查办" if county_name else PREFECTURE_OFFICE


# The user the scheduled jobs act as (escalations, referrals): a prefecture-wide coordinator.
SYSTEM_USER = "系统"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (_role_check,)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[Role] = mapped_column(_role_type)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # A prefecture leader's 联系县, whose red cards reach them.
    linked_county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))  # Argon2, see models.accounts
    # A mainland mobile number, 11 digits (SMS reaches the person here); shown masked everywhere.
    phone: Mapped[str | None] = mapped_column(String(11))
    # 单位负责人: a unit user who signs the unit's submissions off before they reach the
    # verifiers, where the policy asks for it (models.lifecycle.submit).
    unit_head: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    unit: Mapped[Unit | None] = relationship()
    linked_county: Mapped[County | None] = relationship()


_MOBILE = re.compile(r"1[3-9]\d{9}")


def normalise_phone(text: str) -> str:
    """A mainland mobile number as 11 digits (spaces, dashes and a +86 prefix dropped), or
    InvalidInput naming the field; the number itself is not repeated in the message."""
    digits = re.sub(r"[\s\-()]", "", text or "")
    digits = re.sub(r"^(\+?86)", "", digits)
    if not _MOBILE.fullmatch(digits):
        raise InvalidInput("手机号应为 11 位中国大陆手机号(如 13800001234)", field="phone")
    return digits


def mask_phone(phone: str | None) -> str:
    """138****1234: enough to tell two numbers apart, not enough to call one."""
    if not phone:
        return "—"
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def leader_ids(session: Session) -> list[int]:
    """Every active leader (领导): county leaders and prefecture leaders alike."""
    return list(session.scalars(select(User.id).where(User.role == Role.LEADER, User.active.is_(True))))


def prefecture_coordinator_ids(session: Session) -> list[int]:
    """The prefecture's 督查办 coordinators: no county unit; the system user is not one."""
    return list(session.scalars(
        select(User.id).outerjoin(Unit, User.unit_id == Unit.id)
        .where(User.role == Role.COORDINATOR, User.active.is_(True), User.name != SYSTEM_USER,
               Unit.county_id.is_(None))))


def verifier_ids(session: Session) -> list[int]:
    """Every active verifier (核验人): they work across the prefecture."""
    return list(session.scalars(select(User.id).where(User.role == Role.VERIFIER, User.active.is_(True))
                                .order_by(User.id)))


def county_coordinator_ids(session: Session) -> dict[int, list[int]]:
    """Per county id, the active coordinators of that county's 督查办."""
    found: dict[int, list[int]] = {}
    for user_id, county_id in session.execute(
            select(User.id, Unit.county_id).join(Unit, User.unit_id == Unit.id)
            .where(User.role == Role.COORDINATOR, User.active.is_(True), Unit.county_id.is_not(None))
            .order_by(User.id)):
        found.setdefault(county_id, []).append(user_id)
    return found


def unit_has_head(session: Session, unit_id: int | None) -> bool:
    """Whether the unit has an active head (单位负责人) to sign its submissions off."""
    return unit_id is not None and session.scalar(
        select(User.id).where(User.unit_id == unit_id, User.role == Role.UNIT, User.unit_head.is_(True),
                              User.active.is_(True)).limit(1)) is not None
