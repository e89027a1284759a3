"""The Huey tasks: run a job, and the periodic work (recover the jobs of dead workers,
open and close consultations on their dates, clean up). Each runs in the app context
of the worker (queue.app_context)."""
from __future__ import annotations

import logging

from huey import crontab

from .queue import app_context, huey

log = logging.getLogger(__name__)


@huey.task(name="mesa.run_job")
def run_job(job_id: int) -> None:
    from . import services

    with app_context():
        services.execute(job_id)


@huey.periodic_task(crontab(minute="*"), name="mesa.recover_stale")
def recover_stale() -> None:
    from . import services

    with app_context():
        counts = services.recover_stale()
        if any(counts.values()):
            log.info("recovery: %s", counts)


@huey.periodic_task(crontab(minute="*"), name="mesa.apply_schedules")
def apply_schedules() -> None:
    from . import schedules

    with app_context():
        schedules.apply_schedules()


@huey.periodic_task(crontab(minute="17"), name="mesa.cleanup")
def cleanup() -> None:
    from . import services

    with app_context():
        removed = services.cleanup()
        if removed:
            log.info("cleanup: %d expired job(s) deleted", removed)
