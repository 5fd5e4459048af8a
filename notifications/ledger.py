"""The delivery ledger at work: queue messages, deliver each recipient's due rows as one
digest, mark them sent or failed (with backoff), and move reminder cursors on success.

Rows are committed when queued, before anything is sent, so a run that dies mid-way leaves
them queued for the next run. Delivery takes a recipient's rows under FOR UPDATE SKIP
LOCKED (PostgreSQL), so two runs at once never send the same rows; the rows, their result
and the cursors are written in the transaction that took them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import false, or_, select, update
from sqlalchemy.orm import Session

from rectify.models.calendar import WorkCalendar, local_date
from rectify.models.deliveries import Channel, Delivery, Recipient, ReminderCursor, unit_key, user_key
from rectify.models.enums import DeliveryStatus, MessageKind, ReadState
from rectify.models.issues import Issue
from rectify.models.org import PREFECTURE_OFFICE, Unit, User, office_of
from rectify.models.overlays import days_to
from rectify.models.places import County, place_of
from rectify.notifications.links import base_url, workbench_url
from rectify.notifications.messages import Section, render_digest, render_sms, sms_for
from rectify.notifications.send import Attempt, RateLimiter, send, write_outbox
from rectify.notifications.urls import carries, kind_of, with_phones

FIRST_RETRY = timedelta(minutes=10)
LONGEST_WAIT = timedelta(hours=24)


@dataclass
class Notice:
    """A message to queue: one section of its recipient's next digest."""

    recipient: str  # "unit:<id>" / "user:<id>"
    kind: MessageKind
    reason: str
    day: date
    items: list[dict[str, Any]]  # each with issue_id, code, …, and "cursor" (ISO date) for reminders


def notice_item(issue: Issue, *, today: date, calendar: WorkCalendar, note: str | None = None) -> dict[str, Any]:
    """How a message lists one problem (household names masked); no cursor: not a reminder."""
    days = days_to(issue.deadline, today=today, calendar=calendar) if issue.deadline else None
    return {"issue_id": issue.id, "code": issue.code, "place": place_of(issue, household=True),
            "item": issue.check_item.title, "deadline": issue.deadline.isoformat() if issue.deadline else None,
            "days": days, "supervision": None, "note": note, "cursor": None}


def _owner(recipient: str) -> dict[str, int | None]:
    kind, _, number = recipient.partition(":")
    return {"unit_id": int(number) if kind == "unit" else None, "user_id": int(number) if kind == "user" else None}


def queue(session: Session, notices: list[Notice], *, now: datetime) -> int:
    """Write the notices not yet in the ledger; add new items to a same-key row not yet sent."""
    if not notices:
        return 0
    days = {n.day for n in notices}
    existing = {
        (d.recipient, d.kind, d.reason, d.day): d
        for d in session.scalars(select(Delivery).where(Delivery.day.in_(days),
                                                        Delivery.kind.in_({n.kind for n in notices})))
    }
    added = 0
    for notice in notices:
        row = existing.get((notice.recipient, notice.kind, notice.reason, notice.day))
        if row is None:
            row = Delivery(recipient=notice.recipient, **_owner(notice.recipient), kind=notice.kind,
                           reason=notice.reason, day=notice.day, issue_codes=sorted(i["code"] for i in notice.items),
                           context={"items": notice.items}, status=DeliveryStatus.QUEUED, attempts=0,
                           created_at=now, result=[])
            session.add(row)
            existing[(notice.recipient, notice.kind, notice.reason, notice.day)] = row
            added += 1
        elif row.status is not DeliveryStatus.SENT:
            known = set(row.issue_codes)
            fresh = [i for i in notice.items if i["code"] not in known]
            if fresh:
                row.context = {**row.context, "items": row.context.get("items", []) + fresh}
                row.issue_codes = sorted(known | {i["code"] for i in fresh})
    session.flush()
    return added


# Sent by their own flow, with their own body: never folded into a reminder digest.
STANDALONE = (MessageKind.BULLETIN,)


def _due(now: datetime, *, standalone: bool = False):
    kinds = Delivery.kind.in_(STANDALONE) if standalone else Delivery.kind.not_in(STANDALONE)
    return kinds & or_(Delivery.status == DeliveryStatus.QUEUED,
                       (Delivery.status == DeliveryStatus.FAILED) & (Delivery.next_attempt_at <= now))


def due_recipients(session: Session, *, now: datetime) -> list[str]:
    return list(session.scalars(select(Delivery.recipient).where(_due(now)).distinct().order_by(Delivery.recipient)))


def lock_for_sqlite(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: take the database's write lock before reading, so a second
        # run at the same time waits here and then finds the rows already sent.
        session.execute(update(Delivery).where(false()).values(attempts=Delivery.attempts))


@dataclass
class Outcome:
    recipient: str
    ok: bool
    rows: int
    attempts: list[Attempt] = field(default_factory=list)


@dataclass
class Directory:
    """Every recipient's name, channel URLs (by priority) and phone numbers, loaded once per run."""

    names: dict[str, str]
    channels: dict[str, list[str]]
    contacts: dict[str, str] = field(default_factory=dict)  # a unit's 督查办, whom its messages say to ask
    channel_ids: dict[str, int] = field(default_factory=dict)  # url -> channels.id
    phones: dict[str, list[str]] = field(default_factory=dict)  # a person's, or a unit's people's

    @classmethod
    def load(cls, session: Session) -> Directory:
        names, contacts = {}, {}
        for unit_id, name, county in session.execute(
                select(Unit.id, Unit.name, County.name).outerjoin(County, County.id == Unit.county_id)):
            names[unit_key(unit_id)] = name
            contacts[unit_key(unit_id)] = office_of(county)
        names.update(
            {user_key(i): d or n for i, n, d in session.execute(select(User.id, User.name, User.display_name))}
        )
        channels: dict[str, list[str]] = {}
        ids: dict[str, int] = {}
        for channel in session.scalars(select(Channel).where(Channel.active.is_(True))
                                       .order_by(Channel.priority, Channel.id)):
            channels.setdefault(channel.recipient, []).append(channel.url)
            ids.setdefault(channel.url, channel.id)
        phones: dict[str, list[str]] = {}
        for user_id, unit_id, phone in session.execute(
                select(User.id, User.unit_id, User.phone).where(User.active.is_(True), User.phone.is_not(None))
                .order_by(User.id)):
            phones.setdefault(user_key(user_id), []).append(phone)
            if unit_id is not None:
                phones.setdefault(unit_key(unit_id), []).append(phone)
        return cls(names, channels, contacts, ids, phones)

    def name(self, recipient: str) -> str:
        return self.names.get(recipient, recipient)

    def contact(self, recipient: str) -> str:
        return self.contacts.get(recipient, PREFECTURE_OFFICE)


def deliver_to(session: Session, recipient: str, *, now: datetime, outbox: Path, limiter: RateLimiter,
               policy: dict[str, int], directory: Directory, days_left: Callable[[str], int],
               documents: Callable[[Session, list[Delivery]], list[Path]] | None = None) -> Outcome | None:
    """Send the recipient's due rows as one digest: channels by priority, else the outbox.
    Working days left are counted on the day of sending (`days_left(ISO deadline)`, one
    function for the run), whenever the rows were queued. `documents(session, rows)` makes
    the files an e-mail carries (the 整改通知书 of an assignment), asked only when the
    recipient has an e-mail channel."""
    lock_for_sqlite(session)
    rows = list(session.scalars(
        select(Delivery).where(Delivery.recipient == recipient, _due(now)).order_by(Delivery.id)
        .with_for_update(skip_locked=True)))
    if not rows:
        return None  # another run holds them, or sent them meanwhile
    digest = digest_for(rows, recipient, today=local_date(now), policy=policy, directory=directory,
                        days_left=days_left)
    urls = directory.channels.get(recipient, [])
    attach = documents(session, rows) if documents and any(kind_of(u).name == "email" for u in urls) else []

    def text_for(url: str | None) -> tuple[str, str]:
        title, body = digest(url)
        if attach and url is not None and kind_of(url).name == "email":
            body += f"\n\n附件:{'、'.join(p.name for p in attach)}"
        return title, body

    sent = send_first(urls, text_for, recipient=recipient, directory=directory, kinds={r.kind.value for r in rows},
                       day=local_date(now).isoformat(), outbox=outbox, delivery_ids=[r.id for r in rows],
                       limiter=limiter, attach=attach)
    _record(session, rows, sent, now=now)
    return Outcome(recipient=directory.name(recipient), ok=sent.ok, rows=len(rows), attempts=sent.attempts)


def digest_for(rows: list[Delivery], recipient: str, *, today: date, policy: dict[str, int], directory: Directory,
               days_left: Callable[[str], int]) -> Callable[[str | None], tuple[str, str]]:
    """The recipient's rows as one digest, worded for a channel: `text_for(url)` gives the
    (title, body) that fits it (None: the outbox; an SMS: its template's parameters)."""
    name = directory.name(recipient)
    merged: dict[MessageKind, list[dict]] = {}
    for row in rows:
        merged.setdefault(row.kind, []).extend(_on(_items(row), row.kind, days_left))
    sections = [Section(kind, items) for kind, items in merged.items()]
    day = today.isoformat()
    where = workbench_url() if Recipient.parse(recipient).kind == "unit" else f"{base_url()}/"

    def text_for(url: str | None) -> tuple[str, str]:
        message = render_digest(recipient=name, day=day, sections=sections, policy=policy, where=where,
                                contact=directory.contact(recipient),
                                limit_bytes=kind_of(url).limit_bytes if url else None)
        if url is not None and kind_of(url).name == "sms":
            return message.title, sms_for(name, sections)
        return message.title, message.body

    return text_for


def deliver_standalone(session: Session, *, kind: MessageKind, now: datetime, outbox: Path, limiter: RateLimiter,
                       directory: Directory, title: str, body: str, short: str,
                       attach: Sequence[Path] = ()) -> list[Outcome]:
    """Send every due row of a standalone kind (the bulletin): e-mail gets `body` and the
    attachments, robots `short`, SMS its parameters, a recipient without a channel the outbox.
    Caller commits."""
    lock_for_sqlite(session)
    rows = list(session.scalars(select(Delivery).where(Delivery.kind == kind, _due(now, standalone=True))
                                .order_by(Delivery.id).with_for_update(skip_locked=True)))
    outcomes = []
    day = local_date(now).isoformat()

    for row in rows:
        name = directory.name(row.recipient)

        def text_for(url: str | None, name: str = name) -> tuple[str, str]:
            if url is None:
                return title, body
            if kind_of(url).name == "email":  # the only channel the attachments go with
                return title, body + (f"\n\n附件:{'、'.join(p.name for p in attach)}" if attach else "")
            if kind_of(url).name == "sms":
                return title, render_sms(recipient=name, what=kind.label, count=1)
            limit = kind_of(url).limit_bytes
            return title, short if limit is None else short.encode()[:limit].decode(errors="ignore")

        sent = send_first(directory.channels.get(row.recipient, []), text_for, recipient=row.recipient,
                           directory=directory, kinds={kind.value}, day=day, outbox=outbox, delivery_ids=[row.id],
                           limiter=limiter, attach=attach)
        _record(session, [row], sent, now=now)
        outcomes.append(Outcome(recipient=name, ok=sent.ok, rows=1, attempts=sent.attempts))
    return outcomes


@dataclass
class Sent:
    attempts: list[Attempt]
    channel_id: int | None  # the channel that delivered (None: the outbox, or nothing did)

    @property
    def ok(self) -> bool:
        return self.attempts[-1].ok


def send_first(urls: list[str], text_for, *, recipient: str, directory: Directory, kinds: set[str], day: str,
                outbox: Path, delivery_ids: list[int], limiter: RateLimiter, attach: Sequence[Path] = ()) -> Sent:
    """The outbox for a recipient without a channel; else its channels by priority (those kept
    for these kinds of message) until one delivers. `text_for(url)` gives the (title, body)
    fitting that channel (None: the outbox)."""
    urls = [u for u in urls if carries(u, kinds)]
    if not urls:
        title, body = text_for(None)
        return Sent([write_outbox(outbox, recipient=directory.name(recipient), day=day, title=title, body=body,
                                  delivery_ids=delivery_ids)], None)
    attempts: list[Attempt] = []
    for url in urls:
        title, body = text_for(url)
        attempts.append(send(with_phones(url, directory.phones.get(recipient, [])), title=title, body=body,
                             limiter=limiter, attach=attach))
        if attempts[-1].ok:
            return Sent(attempts, directory.channel_ids.get(url))
    return Sent(attempts, None)


def days_left_on(today: date, calendar: WorkCalendar) -> Callable[[str], int]:
    """Working days from `today` to an ISO deadline (negative when past), each deadline counted once."""
    return lru_cache(maxsize=None)(lambda deadline: days_to(date.fromisoformat(deadline), today=today,
                                                            calendar=calendar))


def _on(items: list[dict[str, Any]], kind: MessageKind, days_left: Callable[[str], int]) -> list[dict[str, Any]]:
    """The items with their working days left counted on the day of sending (a closure has none)."""
    if kind is MessageKind.CLOSED:
        return [{**i, "days": None} for i in items]
    return [{**i, "days": days_left(i["deadline"])} if i.get("deadline") else i for i in items]


def _items(row: Delivery) -> list[dict[str, Any]]:
    """The row's items; a row queued before items were stored lists its codes alone."""
    items = row.context.get("items")
    if items:
        return items
    blank = {"issue_id": None, "place": "", "item": "", "deadline": None, "days": None, "supervision": None,
             "note": None, "cursor": None}
    return [{**blank, "code": code} for code in row.issue_codes]


def _record(session: Session, rows: list[Delivery], sent: Sent, *, now: datetime) -> None:
    results = [a.as_dict() for a in sent.attempts]
    error = None if sent.ok else "; ".join(a.detail for a in sent.attempts)[:1000]
    receipt = sent.attempts[-1].receipt if sent.ok else None
    changes = []
    for row in rows:
        change: dict[str, Any] = {"id": row.id, "attempts": row.attempts + 1, "result": results, "error": error}
        if sent.ok:
            change.update(status=DeliveryStatus.SENT, sent_at=now, channel=sent.attempts[-1].channel[:200])
            if receipt is not None and sent.channel_id is not None:
                change.update(receipt={**receipt, "channel_id": sent.channel_id}, read_state=ReadState.UNREAD)
        else:
            change.update(status=DeliveryStatus.FAILED,
                          next_attempt_at=now + min(FIRST_RETRY * 2 ** row.attempts, LONGEST_WAIT))
        changes.append(change)
    # One UPDATE by primary key, executed for all the rows; the rows were locked when taken.
    session.execute(update(Delivery), changes)
    if sent.ok:
        move_cursors(session, rows, now=now)


_CURSOR_UPSERT = (
    "INSERT INTO reminder_cursors (issue_id, kind, on_date, delivery_id, moved_at) VALUES ({p}, {p}, {p}, {p}, {p}) "
    "ON CONFLICT (issue_id, kind) DO UPDATE SET on_date = excluded.on_date, delivery_id = excluded.delivery_id, "
    "moved_at = excluded.moved_at"
)


def move_cursors(session: Session, rows: list[Delivery], *, now: datetime) -> None:
    """Record, per problem and kind, what was just delivered.

    A day's run moves tens of thousands of cursors, so this is one driver-level executemany:
    each distinct value goes through its column type's bind processing once, not once per row.
    """
    connection = session.connection()
    dialect = connection.dialect
    columns = ReminderCursor.__table__.c

    def processor(column):
        convert = column.type.bind_processor(dialect)
        return convert or (lambda value: value)

    kind_of_row, on_date, moved = processor(columns.kind), processor(columns.on_date), processor(columns.moved_at)
    moved_at = moved(now)
    dates: dict[str, Any] = {}
    values = []
    for row in rows:
        kind = kind_of_row(row.kind)
        for item in row.context.get("items", []):
            cursor = item.get("cursor")
            if cursor:
                if cursor not in dates:
                    dates[cursor] = on_date(date.fromisoformat(cursor))
                values.append((item["issue_id"], kind, dates[cursor], row.id, moved_at))
    if values:
        placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(_CURSOR_UPSERT.format(p=placeholder), values)
