"""Reads: a message sent on a channel that reports them (DingTalk work notices, Feishu app
messages) is asked about later; read by everyone it went to, it is marked read. Still unread
after the policy's office hours (`unread_fallback_hours`), the same digest goes again on the
recipient's next channels by priority (SMS, say), and the row says it fell back.

Each group of rows sent together is checked in its own transaction (FOR UPDATE SKIP LOCKED on
PostgreSQL), so two runs at once never fall back twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rectify.models.calendar import WorkCalendar, local_date
from rectify.models.deliveries import Channel, Delivery
from rectify.models.enums import DeliveryStatus, ReadState
from rectify.notifications.ledger import Directory, digest_for, lock_for_sqlite, send_first
from rectify.notifications.plugins import READS
from rectify.notifications.send import RateLimiter


@dataclass
class ReadSummary:
    checked: int = 0
    read: int = 0
    fell_back: int = 0
    failed: list[str] = field(default_factory=list)


def unread_groups(session: Session) -> list[tuple[str, datetime]]:
    """(recipient, sent_at) of each group of rows sent together and not yet read."""
    return list(session.execute(select(Delivery.recipient, Delivery.sent_at)
                                .where(Delivery.read_state == ReadState.UNREAD).distinct()
                                .order_by(Delivery.sent_at, Delivery.recipient)).tuples())


def check_group(session: Session, recipient: str, sent_at: datetime, *, now: datetime, calendar: WorkCalendar,
                fallback_hours: int, numbers: dict[str, int], directory: Directory, days_left: Callable[[str], int],
                outbox: Path, limiter: RateLimiter, summary: ReadSummary) -> None:
    """Ask the service who read these rows; mark them read, or fall back when the time is up."""
    lock_for_sqlite(session)
    rows = list(session.scalars(select(Delivery).where(
        Delivery.recipient == recipient, Delivery.sent_at == sent_at, Delivery.read_state == ReadState.UNREAD)
        .order_by(Delivery.id).with_for_update(skip_locked=True)))
    if not rows or not rows[0].receipt:
        return
    receipt = rows[0].receipt
    summary.checked += len(rows)
    channel = session.get(Channel, receipt.get("channel_id"))
    ask = READS.get(receipt.get("service", ""))
    readers = ask(channel.url, receipt) if channel is not None and ask is not None else None
    changes: dict = {"read_checked_at": now}
    if readers is not None and set(receipt.get("to") or []) <= readers:
        changes.update(read_state=ReadState.READ, read_at=now)
        summary.read += len(rows)
    elif calendar.working_hours_between(sent_at, now) >= fallback_hours:
        urls = directory.channels.get(recipient, [])
        later = urls[urls.index(channel.url) + 1:] if channel is not None and channel.url in urls else []
        if later:
            text_for = digest_for(rows, recipient, today=local_date(now), policy=numbers, directory=directory,
                                  days_left=days_left)
            sent = send_first(later, text_for, recipient=recipient, directory=directory,
                               kinds={r.kind.value for r in rows}, day=local_date(now).isoformat(), outbox=outbox,
                               delivery_ids=[r.id for r in rows], limiter=limiter)
            results = [a.as_dict() for a in sent.attempts]
            if sent.ok:
                changes.update(read_state=ReadState.FELL_BACK, channel=sent.attempts[-1].channel[:200])
                summary.fell_back += len(rows)
            else:
                summary.failed.append(f"{directory.name(recipient)}:{sent.attempts[-1].detail}")
            for row in rows:
                session.execute(update(Delivery).where(Delivery.id == row.id)
                                .values(result=list(row.result or []) + results, **changes))
            return
    session.execute(update(Delivery).where(Delivery.id.in_([r.id for r in rows]),
                                           Delivery.status == DeliveryStatus.SENT).values(**changes))
