"""Where a message's links point: RECTIFY_BASE_URL (docs/channels.md), the address at which the
people told reach the web app; by default the address `rectify web` serves on."""

from __future__ import annotations

import os
from urllib.parse import quote

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def base_url() -> str:
    return (os.environ.get("RECTIFY_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def issue_url(code: str) -> str:
    return f"{base_url()}/issues/{quote(code)}"


def workbench_url() -> str:
    return f"{base_url()}/workbench"
