"""The Prefect settings rectify needs, and the one test server the later flows will share."""

from __future__ import annotations

from prefect import flow
from prefect.settings import get_current_settings


def test_project_settings_are_in_force():
    settings = get_current_settings()
    assert settings.server.ephemeral.startup_timeout_seconds >= 90
    assert settings.server.analytics_enabled is False


def test_a_flow_runs_against_the_test_server(prefect_harness):
    @flow(name="rectify-smoke")
    def smoke(x: int) -> int:
        return x * 2

    state = smoke(21, return_state=True)
    assert state.is_completed() and state.result() == 42
