"""The one place rectify calls apprise, plus the outbox used when a recipient has no channel.

apprise's logger never runs below INFO here: at DEBUG it writes tokens in clear.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import apprise

from rectify.notifications import plugins  # noqa: F401  - registers rectify's schemes
from rectify.notifications.urls import kind_of, mask

_apprise_logger = logging.getLogger("apprise")


def _guard_apprise_logger() -> None:
    if _apprise_logger.getEffectiveLevel() < logging.INFO:
        _apprise_logger.setLevel(logging.INFO)


_guard_apprise_logger()


@dataclass(frozen=True)
class Attempt:
    channel: str  # masked
    ok: bool
    detail: str
    # From a channel that reports reads: what to ask it later ({"service", "ref", "to"}).
    receipt: dict | None = None

    def as_dict(self) -> dict:
        return {"channel": self.channel, "ok": self.ok, "detail": self.detail}


class RateLimiter:
    """At most `per_minute` sends per webhook within any 60 s, across the whole run (thread-safe)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._clock, self._sleep = clock, sleep
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str, per_minute: int | None) -> float:
        """Block until one more send to `key` keeps it under its limit; returns the seconds waited."""
        if per_minute is None:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                sent = self._sent.setdefault(key, deque())
                now = self._clock()
                while sent and now - sent[0] >= 60:
                    sent.popleft()
                if len(sent) < per_minute:
                    sent.append(now)
                    return waited
                pause = 60 - (now - sent[0])
            self._sleep(pause)
            waited += pause


_DETAIL = re.compile(r" - (?:WARNING|ERROR|INFO) - (.*)")


def send(url: str, *, title: str, body: str, limiter: RateLimiter, attach: Sequence[Path] = ()) -> Attempt:
    """Deliver one message to one channel; the detail names the service's error code on failure.

    `attach` (files) goes with e-mail only; robots, SMS and webhooks get the text alone.
    """
    _guard_apprise_logger()
    shown = mask(url)
    limiter.wait(url, kind_of(url).per_minute)
    target = apprise.Apprise()
    if not target.add(url):
        return Attempt(shown, False, "通知地址无效")
    found: list[dict] = []
    opened = plugins.receipts.set(found)
    try:
        with apprise.LogCapture(level=logging.INFO) as captured:
            files = [str(p) for p in attach] if attach and kind_of(url).name == "email" else None
            ok = bool(target.notify(body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN, attach=files))
    finally:
        plugins.receipts.reset(opened)
    lines = [m.group(1) for m in _DETAIL.finditer(captured.getvalue())
             if not m.group(1).startswith(("Notifying ", "Failed to send "))]
    detail = "已送达" if ok else ("; ".join(lines[-3:]) or "发送失败")
    return Attempt(shown, ok, detail[:500], receipt=found[-1] if ok and found else None)


def write_outbox(folder: Path, *, recipient: str, day: str, title: str, body: str, delivery_ids: list[int]) -> Attempt:
    """A readable Markdown file per delivery, for recipients without a channel (and the demo)."""
    target = folder / day
    target.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", recipient)
    path = target / f"{safe}-{'-'.join(str(i) for i in delivery_ids)[:80]}.md"
    # A message that opens with its own heading (a digest, the bulletin) is written as it is.
    path.write_text(body + "\n" if body.startswith("#") else f"# {title}\n\n{body}\n", encoding="utf-8")
    return Attempt(f"outbox:{path}", True, "已写入发件箱")
