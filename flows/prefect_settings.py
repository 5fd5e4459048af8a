"""The Prefect settings rectify runs with. Import before Prefect reads its settings.

A fresh 2-core machine needs more than Prefect's default 20 s to start the ephemeral
server, and nothing here may phone home. Values already set in the environment win.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
}


def apply_defaults() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


apply_defaults()
