"""The check catalogue: what an inspection looks at. It changes year to year, so it is data."""

from __future__ import annotations

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rectify.models.base import Base, enum_column
from rectify.models.enums import Level

_level_type, _level_check = enum_column(Level, "level")


class CheckItem(Base):
    __tablename__ = "check_items"
    __table_args__ = (_level_check,)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    level: Mapped[Level] = mapped_column(_level_type, index=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(80), index=True)
    standard: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
