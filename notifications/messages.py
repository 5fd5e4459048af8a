"""Rendering: one template per message kind renders a section; a recipient's sections in one
run make one digest. Templates run sandboxed with StrictUndefined: a missing value is an
error, never an empty gap in a message. A digest too long for its channel is cut, in bytes,
section by section, and says how many items were left out and where to see them.

A digest names each problem once, in its most urgent section (URGENCY); what the other
sections said of it is kept as a note. Every item links to its problem, and the digest ends
with where to act and whom to ask (notifications/links.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from rectify.models.enums import MessageKind
from rectify.notifications.links import issue_url

# Most urgent first: the section a problem named by several is listed in, and the order of the
# sections in a digest.
URGENCY = (MessageKind.LISTED, MessageKind.RED, MessageKind.YELLOW, MessageKind.OVERDUE, MessageKind.RETURNED,
           MessageKind.DUE_TOMORROW, MessageKind.SIGN_REMINDER, MessageKind.DUE_SOON, MessageKind.REOPENED,
           MessageKind.ASSIGNMENT, MessageKind.EXTENSION_DECIDED, MessageKind.VERIFY_ESCALATED,
           MessageKind.VERIFY_LATE, MessageKind.CLOSED, MessageKind.BULLETIN, MessageKind.TEST)

TEMPLATES = Path(__file__).parent / "templates"
_env = SandboxedEnvironment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, autoescape=False,
                            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
# A free text inside a Markdown table's cell: one line, no column bar.
_env.filters["cell"] = lambda text: " ".join(str(text).replace("|", "/").split())


@dataclass
class Section:
    kind: MessageKind
    items: list[dict[str, Any]]


@dataclass
class Message:
    title: str
    body: str
    shown: int
    omitted: int


def _section(section: Section, limit: int | None, policy: dict[str, int]) -> str:
    items = section.items if limit is None else section.items[:limit]
    return _env.get_template(f"{section.kind.value}.md.j2").render(
        items=items, omitted=len(section.items) - len(items), policy=policy).strip()


def once_each(sections: list[Section]) -> list[Section]:
    """The sections most urgent first, each problem in the first that names it; the notes the
    later ones had for it are added to its note."""
    ordered = sorted(sections, key=lambda s: URGENCY.index(s.kind))
    kept: dict[str, dict[str, Any]] = {}
    result = []
    for section in ordered:
        items = []
        for item in section.items:
            first = kept.get(item["code"])
            if first is None:
                kept[item["code"]] = first = {**item, "url": issue_url(item["code"])}
                items.append(first)
                continue
            extra = item.get("note")
            if extra and extra not in (first.get("note") or ""):
                first["note"] = f"{first['note']};{extra}" if first.get("note") else extra
        if items or not section.items:  # a section that lists nothing (the test message) stays
            result.append(Section(section.kind, items))
    return result


def render_digest(*, recipient: str, day: str, sections: list[Section], policy: dict[str, int], where: str,
                  contact: str, limit_bytes: int | None = None) -> Message:
    """The digest, with as many items per section as fit in `limit_bytes` (all when None).
    `where`: the link to act from; `contact`: whom to ask."""
    sections = once_each(sections)
    total = sum(len(s.items) for s in sections)
    title = f"{recipient}:" + "、".join(s.kind.label for s in sections) + f"({day})"

    def build(per_section: int | None) -> Message:
        parts = [_section(s, per_section, policy) for s in sections]
        shown = sum(len(s.items) if per_section is None else min(per_section, len(s.items)) for s in sections)
        body = _env.get_template("digest.md.j2").render(
            recipient=recipient, day=day, sections="\n\n".join(parts), omitted=total - shown, where=where,
            contact=contact).strip()
        return Message(title=title, body=body, shown=shown, omitted=total - shown)

    message = build(None)
    if limit_bytes is None or len(message.body.encode()) <= limit_bytes:
        return message
    low, high = 0, max(len(s.items) for s in sections)  # the largest count per section that fits
    while low < high:
        middle = (low + high + 1) // 2
        if len(build(middle).body.encode()) <= limit_bytes:
            low = middle
        else:
            high = middle - 1
    return build(low)


def render_sms(*, recipient: str, what: str, count: int) -> str:
    """An SMS carries the parameters of a template the provider approved, not the digest: who,
    how many problems, the most urgent matter (each at most 20 characters, and no link: the
    providers refuse links in parameters; the template holds the site's address)."""
    return json.dumps({"name": recipient[:20], "count": str(count), "what": what[:20]}, ensure_ascii=False)


def sms_for(recipient: str, sections: list[Section]) -> str:
    ordered = once_each(sections)
    return render_sms(recipient=recipient, what=ordered[0].kind.label if ordered else "通知",
                      count=sum(len(s.items) for s in ordered))


def render_page(template: str, **values: Any) -> str:
    """A whole message from its own template (the weekly bulletin), sandboxed like the rest."""
    return _env.get_template(template).render(**values).strip()
