"""Declarative base, naming convention and the column types every table shares."""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import CheckConstraint, DateTime, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC.

    SQLite keeps no offset, so values are normalised to UTC on the way in and
    given back their UTC tzinfo on the way out; naive datetimes are refused
    rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware instant")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class StrEnumType(TypeDecorator):
    """A StrEnum stored as its lowercase value and read back as the member."""

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[enum.StrEnum]) -> None:
        super().__init__(max(16, max(len(m.value) for m in enum_cls)))
        self.enum_cls = enum_cls

    def process_bind_param(self, value, dialect) -> str | None:
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum_cls(value)


def enum_column(enum_cls: type[enum.StrEnum], name: str) -> tuple[StrEnumType, CheckConstraint]:
    """A StrEnum column plus the CHECK constraint that keeps it to the enum's values."""
    values = ", ".join(f"'{m.value}'" for m in enum_cls)
    return StrEnumType(enum_cls), CheckConstraint(f"{name} IN ({values})", name=name)
