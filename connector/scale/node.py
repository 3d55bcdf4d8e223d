"""``ml-connector run --workers N``: one node of a cluster that shares a PostgreSQL.

The node runs two Procrastinate workers in its asyncio process: one with ``N`` slots for
tenant jobs (``N`` tenants at a time, each under its tenant lock) and one slot for the
housekeeping jobs (the schedule tick, the requeue of dead nodes' jobs). Start as many nodes
as you like, on any machines that reach the database and share the tenants' state. With
``--webhook-port`` a node also receives tenants' webhooks (:mod:`connector.scale.webhooks`).
Each node serves its own ``/healthz`` and ``/metrics`` on its ``[service] admin_port`` (or
``--admin-port``), as the single-VM service does (:mod:`connector.scale.admin`).

SIGTERM/SIGINT: no new job starts; running jobs get ``shutdown_timeout_s`` to finish, then
are cancelled (their records stay in flight in the ledger and the next job for the tenant
settles them through the target). A node killed outright loses its jobs to the other nodes
once its heartbeat is ``stalled_after_s`` old.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator

import anyio
import procrastinate

from connector.logs import configure_logging
from connector.scale.admin import start_node_admin
from connector.scale.directory import TenantDirectory
from connector.scale.jobs import HOUSEKEEPING_QUEUE, TENANT_QUEUE, build_job_app
from connector.scale.settings import NodeSettings
from connector.scale.status import NodeStatus, NodeWorker
from connector.scale.webhooks import start_receiver

log = logging.getLogger("connector.scale")


async def run_node(settings: NodeSettings, workers: int, webhook_port: int | None = None) -> int:
    """Serve tenant jobs with ``workers`` slots (and tenants' webhooks on ``webhook_port``
    when given) until SIGTERM/SIGINT; the exit status."""
    configure_logging(settings.service.log_level, json=True)
    await TenantDirectory(settings.database_url).create_schema()
    name = f"{socket.gethostname()}-{os.getpid()}"
    status = NodeStatus(name)
    # A connection per slot, one per worker's LISTEN, and a few for heartbeats and defers.
    app = build_job_app(settings, pool_size=workers + 6, status=status)
    async with app.open_async():
        node_workers = [
            _worker(status, app, settings, f"{name}/tenants", TENANT_QUEUE, workers),
            _worker(status, app, settings, f"{name}/housekeeping", HOUSEKEEPING_QUEUE, 1),
        ]
        admin = await start_node_admin(settings, status)
        receiver = None
        try:
            if webhook_port is not None:
                receiver = await start_receiver(settings, app, webhook_port)
            log.info("node %s serving tenant jobs with %d worker slot(s)", name, workers)
            await _serve_until_signal(node_workers)
        finally:
            if receiver is not None:
                await receiver.cleanup()
            await admin.cleanup()
    log.info("node %s stopped", name)
    return 0


async def _serve_until_signal(workers: list[NodeWorker]) -> None:
    """Run the workers until SIGTERM/SIGINT or until one of them fails, then stop all.

    Plain asyncio tasks rather than a task group: a Procrastinate worker stops gracefully
    on *one* cancellation (it stops fetching and waits for its running jobs), whereas a
    cancelled task group cancels every await again, cutting that wait short.
    """
    tasks = [entry.start() for entry in workers]
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        stop = asyncio.ensure_future(_first_signal(signals))
        await asyncio.wait([*tasks, stop], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            raise result


async def _first_signal(signals: AsyncIterator[int]) -> None:
    async for signum in signals:
        log.info("%s: stopping (running jobs may finish)", signal.Signals(signum).name)
        return


def _worker(
    status: NodeStatus,
    app: procrastinate.App,
    settings: NodeSettings,
    name: str,
    queue: str,
    slots: int,
) -> NodeWorker:
    return status.add_worker(
        app,
        name,
        queue,
        concurrency=slots,
        install_signal_handlers=False,
        shutdown_graceful_timeout=settings.service.shutdown_timeout_s,
        update_heartbeat_interval=settings.heartbeat_s,
        stalled_worker_timeout=settings.stalled_after_s,
        delete_jobs="successful",
    )
