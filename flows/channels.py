"""Notification channels as use cases, for the CLI (`rectify channel …`) and the web admin alike:
add one (the address checked and stored, shown only masked), remove one, send a test."""

from __future__ import annotations

from rectify.flows.context import Context
from rectify.models.deliveries import Channel, Delivery
from rectify.models.errors import InvalidInput, NotFound
from rectify.models.org import Unit, User


def channel_row(channel: Channel) -> dict:
    """What may be shown of a channel: its address with the secrets masked."""
    from rectify.notifications.urls import kind_of, mask

    owner = channel.unit.name if channel.unit else (channel.user.name if channel.user else "")
    return {"id": channel.id, "owner": owner, "kind": kind_of(channel.url).label, "priority": channel.priority,
            "url": mask(channel.url), "active": channel.active}


def delivery_row(d: Delivery, recipient: str) -> dict:
    """What the ledger shows of a delivery (the channel is stored masked), CLI and page alike."""
    return {"id": d.id, "day": d.day.isoformat(), "recipient": recipient, "kind": d.kind.value,
            "kind_label": d.kind.label, "reason": d.reason, "items": len(d.issue_codes), "status": d.status.value,
            "status_label": d.status.label, "read_state": d.read_state.value if d.read_state else None,
            "read_label": d.read_state.label if d.read_state else "—", "attempts": d.attempts, "channel": d.channel,
            "sent_at": d.sent_at.isoformat() if d.sent_at else None,
            "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None, "error": d.error,
            "result": d.result}


def add_channel(ctx: Context, url: str, *, unit: Unit | None = None, user: User | None = None,
                priority: int = 10) -> Channel:
    from rectify.notifications.urls import check

    if (unit is None) == (user is None):
        raise InvalidInput("请指定单位或个人之一", field="owner")
    kind = check(url)
    channel = Channel(url=url.strip(), kind=kind.name, priority=priority, active=True, created_at=ctx.now,
                      unit=unit, user=user)
    ctx.session.add(channel)
    ctx.session.flush()
    return channel


def get_channel(ctx: Context, channel_id: int) -> Channel:
    channel = ctx.session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("通知渠道", str(channel_id))
    return channel


def test_message(ctx: Context, channel: Channel) -> tuple[str, str, str]:
    """(url, title, body) of the test message a channel's owner would get (nothing is recorded)."""
    from rectify.flows.reminders import message_numbers
    from rectify.models.enums import MessageKind
    from rectify.notifications.ledger import Directory
    from rectify.notifications.links import base_url
    from rectify.notifications.messages import Section, render_digest
    from rectify.notifications.urls import kind_of

    directory = Directory.load(ctx.session)
    message = render_digest(recipient=directory.name(channel.recipient), day=ctx.today.isoformat(),
                            sections=[Section(MessageKind.TEST, [])], policy=message_numbers(ctx.policy),
                            where=f"{base_url()}/", contact=directory.contact(channel.recipient),
                            limit_bytes=kind_of(channel.url).limit_bytes)
    return channel.url, message.title, message.body


def send_test(url: str, title: str, body: str):
    """Send it, outside any transaction; the provider's answer (an Attempt)."""
    from rectify.notifications.send import RateLimiter, send

    return send(url, title=title, body=body, limiter=RateLimiter())
