"""Login throttling: guessing gets slower and slower, the real user still gets in.

Four counts over the recorded failures (models.accounts.LoginAttempt), each with a number of
free failures and then a wait that doubles with every further failure (1 s, 2 s, 4 s … at most
`longest_wait`), counted from the latest failure it covers:

- one name from one address (since that pair's last success): a user who mistypes;
- one address, any names: one machine spraying a password over many names;
- one name, from addresses it has not logged in from: many machines guessing one name;
- everything, from unfamiliar addresses: when the whole site is under attack, logins from
  addresses a name has not used go one at a time, a second apart, then longer (the wait
  doubles every `overall_step` failures, at most `overall_longest`: a user on a phone whose
  address changes is slowed by seconds, not locked out).

A name that logged in from an address within `familiar_for` is familiar there: the address,
name and overall counts do not hold it back, so an attacker elsewhere cannot lock a leader out
of their own office. Only its own mistypes (the pair count) slow it.

A refused attempt is not recorded, so waiting out a wait is enough: knocking on does not
prolong it. An administrator can clear the failures of a name or an address (`unlock`).
The clock is always the real one (a training copy that runs in 2016 still counts today).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from rectify.models.accounts import LoginAttempt
from rectify.models.errors import InvalidInput


@dataclass(frozen=True)
class Limits:
    pair_free: int = 5
    address_free: int = 30  # an office behind one address: many people, some typos
    name_free: int = 20
    overall_free: int = 300
    window: timedelta = timedelta(hours=24)
    overall_window: timedelta = timedelta(minutes=15)
    familiar_for: timedelta = timedelta(days=90)
    longest_wait: timedelta = timedelta(minutes=15)
    overall_step: int = 100
    overall_longest: timedelta = timedelta(seconds=10)


LIMITS = Limits()


@dataclass(frozen=True)
class Wait:
    seconds: int
    reason: str  # "pair", "address", "name" or "overall": which count holds the attempt back


def progressive(failures: int, free: int, longest: timedelta, step: int = 1) -> timedelta:
    """The wait after `failures` failures when `free` of them cost nothing, doubling every `step`."""
    if failures < free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min((failures - free) // step, 30)), longest)


def login_wait(session: Session, name: str, address: str, *, now: datetime, limits: Limits = LIMITS) -> Wait | None:
    """How long this name from this address must wait before its next try, or None."""
    failed = (LoginAttempt.ok.is_(False), LoginAttempt.cleared_at.is_(None))
    since = now - limits.window
    last_ok = session.scalar(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.name == name, LoginAttempt.address == address, LoginAttempt.ok.is_(True)))
    familiar = last_ok is not None and last_ok > now - limits.familiar_for
    after = max(since, last_ok) if last_ok else since
    long, step = limits.longest_wait, 1
    Count = tuple[str, int, timedelta, int, tuple[ColumnElement[bool], ...]]
    pair = (LoginAttempt.name == name, LoginAttempt.address == address, LoginAttempt.at > after, *failed)
    counts: list[Count] = [("pair", limits.pair_free, long, step, pair)]
    if not familiar:
        counts += [
            ("address", limits.address_free, long, step, (LoginAttempt.address == address, LoginAttempt.at > since,
                                                          *failed)),
            ("name", limits.name_free, long, step, (LoginAttempt.name == name, LoginAttempt.at > since, *failed)),
            ("overall", limits.overall_free, limits.overall_longest, limits.overall_step,
             (LoginAttempt.at > now - limits.overall_window, *failed)),
        ]
    longest: Wait | None = None
    for reason, free, cap, every, where in counts:
        failures, latest = session.execute(select(func.count(), func.max(LoginAttempt.at)).where(*where)).one()
        if not failures or latest is None:
            continue
        left = latest + progressive(failures, free, cap, every) - now
        seconds = int(left.total_seconds() + 0.999)
        if seconds > 0 and (longest is None or seconds > longest.seconds):
            longest = Wait(seconds, reason)
    return longest


def unlock(session: Session, *, now: datetime, name: str | None = None, address: str | None = None) -> int:
    """Clear the recorded failures of a name, an address or both; how many were cleared."""
    if not name and not address:
        raise InvalidInput("请给出要解除限制的用户名或地址", field="name")
    where: list[ColumnElement[bool]] = [LoginAttempt.ok.is_(False), LoginAttempt.cleared_at.is_(None)]
    if name:
        where.append(LoginAttempt.name == name)
    if address:
        where.append(LoginAttempt.address == address)
    cleared = session.scalar(select(func.count()).select_from(LoginAttempt).where(*where)) or 0
    session.execute(update(LoginAttempt).where(*where).values(cleared_at=now))
    return cleared

