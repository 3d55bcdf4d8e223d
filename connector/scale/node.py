"""``ml-connector run --workers N``: one node of a cluster that shares a PostgreSQL.

The node runs two Procrastinate workers in its asyncio process: one with ``N`` slots for
tenant jobs (``N`` tenants at a time, each under its tenant lock) and one slot for the
housekeeping jobs (the schedule tick, the requeue of dead nodes' jobs). Start as many nodes
as you like, on any machines that reach the database and share the tenants' state.

SIGTERM/SIGINT: no new job starts; running jobs get ``shutdown_timeout_s`` to finish, then
are cancelled (their records stay in flight in the ledger and the next job for the tenant
settles them through the target). A node killed outright loses its jobs to the other nodes
once its heartbeat is ``stalled_after_s`` old.
"""

from __future__ import annotations

import logging
import os
import signal
import socket

import anyio
import procrastinate

from connector.logs import configure_logging
from connector.scale.directory import TenantDirectory
from connector.scale.jobs import HOUSEKEEPING_QUEUE, TENANT_QUEUE, build_job_app
from connector.scale.settings import NodeSettings

log = logging.getLogger("connector.scale")


async def run_node(settings: NodeSettings, workers: int) -> int:
    """Serve tenant jobs with ``workers`` slots until SIGTERM/SIGINT; the exit status."""
    configure_logging(settings.service.log_level, json=True)
    await TenantDirectory(settings.database_url).create_schema()
    # A connection per slot, one per worker's LISTEN, and a few for heartbeats and defers.
    app = build_job_app(settings, pool_size=workers + 6)
    name = f"{socket.gethostname()}-{os.getpid()}"
    async with app.open_async():
        log.info("node %s serving tenant jobs with %d worker slot(s)", name, workers)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_stop_on_signal, tg.cancel_scope)
            tg.start_soon(_worker, app, settings, f"{name}/tenants", TENANT_QUEUE, workers)
            tg.start_soon(_worker, app, settings, f"{name}/housekeeping", HOUSEKEEPING_QUEUE, 1)
    log.info("node %s stopped", name)
    return 0


async def _worker(
    app: procrastinate.App, settings: NodeSettings, name: str, queue: str, slots: int
) -> None:
    await app.run_worker_async(
        queues=[queue],
        name=name,
        concurrency=slots,
        install_signal_handlers=False,
        shutdown_graceful_timeout=settings.service.shutdown_timeout_s,
        update_heartbeat_interval=settings.heartbeat_s,
        stalled_worker_timeout=settings.stalled_after_s,
        delete_jobs="successful",
    )


async def _stop_on_signal(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("%s: stopping (running jobs may finish)", signal.Signals(signum).name)
            # Cancelling a Procrastinate worker is its graceful stop: it takes no new job
            # and waits for the running ones up to shutdown_graceful_timeout.
            scope.cancel()
            return
