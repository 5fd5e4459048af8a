"""The scheduled deployments, defined once: served by `rectify schedules` on one machine, or
registered by `rectify deploy` on a Prefect server for a process work pool whose workers run
on other hosts (each with rectify installed: the entrypoints are module paths, so a worker
needs the package, not a copy of this checkout)."""

from __future__ import annotations

from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron

TIMEZONE = "Asia/Shanghai"
POOL = "rectify"


def scheduled(cron: str, bulletin_cron: str, *, module_paths: bool = False) -> list[RunnerDeployment]:
    """send-reminders (working days only: the flow skips the others) and weekly-bulletin, one run
    at a time each."""
    from rectify.flows.reminders import send_reminders
    from rectify.flows.reports.bulletin import weekly_bulletin

    kind = EntrypointType.MODULE_PATH if module_paths else EntrypointType.FILE_PATH
    made = [
        send_reminders.to_deployment(name="send-reminders", schedules=[Cron(cron, timezone=TIMEZONE)],
                                     concurrency_limit=1, tags=["reminders"], entrypoint_type=kind),
        weekly_bulletin.to_deployment(name="weekly-bulletin", schedules=[Cron(bulletin_cron, timezone=TIMEZONE)],
                                      concurrency_limit=1, tags=["bulletin"], entrypoint_type=kind),
    ]
    # to_deployment is sync-or-async (Prefect's sync_compatible): called from sync code it returns the deployment.
    return [d for d in made if isinstance(d, RunnerDeployment)]


def deploy_to_pool(pool: str, cron: str, bulletin_cron: str) -> list[str]:
    """Create the process work pool if missing, then register (or update) both deployments."""
    from prefect import deploy
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        except ObjectAlreadyExists:
            pass
    ids = deploy(*scheduled(cron, bulletin_cron, module_paths=True), work_pool_name=pool, build=False, push=False,
                 ignore_warnings=True, print_next_steps_message=False)
    assert isinstance(ids, list)  # deploy is sync-or-async (Prefect's sync_compatible); called from sync code
    return [str(i) for i in ids]
