"""One unit of work: a session in one transaction, the clock, the policy and the calendar."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from rectify.models.calendar import WorkCalendar, local_date
from rectify.models.db import database_url, make_engine, session_factory
from rectify.models.errors import Conflict
from rectify.models.policy import Policy, load_policy

_engines: dict[str, Engine] = {}


def engine_for(url: str | None = None) -> Engine:
    key = url or database_url()
    if key not in _engines:
        _engines[key] = make_engine(key)
    return _engines[key]


@dataclass
class Context:
    session: Session
    now: datetime

    @property
    def today(self) -> date:
        return local_date(self.now)

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.session)

    @cached_property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar.load(self.session)


@contextmanager
def unit_of_work(now: datetime, *, url: str | None = None) -> Iterator[Context]:
    """Commit once if the block succeeds; roll everything back if it raises."""
    from rectify.flows.events import publish

    with session_factory(engine_for(url))() as session:
        try:
            with session.begin():
                yield Context(session=session, now=now)
        except OperationalError as exc:
            # SQLite refuses a write from a transaction that read before another writer
            # committed (or after waiting its 30 s): nothing was written, and retrying works.
            if "database is locked" in str(exc.orig):
                raise Conflict("另一项操作同时写入了数据;本次操作未保存,请重试") from None
            raise
        publish(session)
