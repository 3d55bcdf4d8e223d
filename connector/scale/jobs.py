"""The cluster's jobs, on Procrastinate (a PostgreSQL job queue with locks and periodic
tasks) rather than a scheduler of our own.

Jobs and what keeps them apart:

- ``ml_connector.cycle(tenant, flow)``: one sync cycle. ``lock`` = the tenant, so one node
  at a time talks to a tenant (its rate limiter is then the only one spending its budget)
  and a tenant's jobs run in the order they were queued; ``queueing_lock`` = the tenant and
  flow, so at most one cycle waits per flow however often it is asked for.
- ``ml_connector.drain(tenant, flow)``: process the tenant's stored webhook events; same
  tenant lock, its own queueing lock.
- ``ml_connector.tick`` (every second, deferred once cluster-wide by Procrastinate's
  periodic deferrer): defers the cycles and sweeps whose schedule row is due.
- ``ml_connector.requeue_stalled`` (every few seconds): a node that died (SIGKILL, power)
  stops sending its worker heartbeat; once it has been silent for ``stalled_after_s`` its
  running jobs go back to the queue, and their tenant locks with them, for any node.

The housekeeping jobs have their own queue and worker, so a node whose tenant slots are all
busy still ticks and still rescues a dead node's tenants.

Delivery contract: a job may run more than once (a node presumed dead may only have been
slow) and may stop anywhere. That is safe because every write is settled through the
ledger and a live lookup in the target; see :mod:`connector.scale.work`.
"""

from __future__ import annotations

import logging

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException, UniqueViolation
from procrastinate.jobs import Job, Status

from connector.scale.directory import JobKind, TenantDirectory
from connector.scale.settings import NodeSettings
from connector.scale.status import NodeStatus
from connector.scale.work import run_job
from connector.store.lock import StateLockedError

log = logging.getLogger("connector.scale")

CYCLE = "ml_connector.cycle"
DRAIN = "ml_connector.drain"
TENANT_QUEUE = "ml_connector_tenants"
HOUSEKEEPING_QUEUE = "ml_connector_housekeeping"
#: Seconds between sweeps for dead nodes' jobs (the timeout itself is ``stalled_after_s``).
REQUEUE_EVERY_S = 2

#: A job whose state file another process still holds (a node presumed dead that was only
#: slow) is tried again a little later, not failed.
_RETRY = procrastinate.RetryStrategy(max_attempts=10, wait=3, retry_exceptions={StateLockedError})


def tenant_lock(tenant: str) -> str:
    """The lock every job of a tenant holds: one per tenant credential set."""
    return f"ml-connector/tenant/{tenant}"


def queueing_lock(tenant: str, flow: str, kind: JobKind) -> str:
    return f"ml-connector/{kind}/{tenant}/{flow}"


def build_job_app(
    settings: NodeSettings, *, pool_size: int = 4, status: NodeStatus | None = None
) -> procrastinate.App:
    """The Procrastinate app with the connector's tasks, bound to the cluster's database;
    each tenant job is counted in ``status`` (the node's /healthz and /metrics)."""
    node = status or NodeStatus("")
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=settings.database_url, min_size=1, max_size=pool_size
        )
    )
    directory = TenantDirectory(settings.database_url)

    @app.task(name=CYCLE, queue=TENANT_QUEUE, retry=_RETRY)
    async def cycle(tenant: str, flow: str) -> None:
        async with node.job(tenant, flow, "cycle") as results:
            result = await run_job(settings, directory, tenant, flow, "cycle")
            results.append(result)
        log.info("%s/%s cycle: %s", tenant, flow, result.status, extra={"flow": flow})

    @app.task(name=DRAIN, queue=TENANT_QUEUE, retry=_RETRY)
    async def drain(tenant: str, flow: str) -> None:
        async with node.job(tenant, flow, "drain") as results:
            result = await run_job(settings, directory, tenant, flow, "drain")
            results.append(result)
        log.info("%s/%s drain: %s", tenant, flow, result.status, extra={"flow": flow})

    @app.periodic(cron="* * * * * *")
    @app.task(name="ml_connector.tick", queue=HOUSEKEEPING_QUEUE)
    async def tick(timestamp: int) -> None:
        async with directory.claim_due() as due:
            for job in due:
                await defer(app, job.tenant, job.flow, job.kind)

    @app.periodic(cron=f"* * * * * */{REQUEUE_EVERY_S}")
    @app.task(name="ml_connector.requeue_stalled", queue=HOUSEKEEPING_QUEUE)
    async def requeue_stalled(timestamp: int) -> None:
        stalled = await app.job_manager.get_stalled_jobs(
            seconds_since_heartbeat=settings.stalled_after_s
        )
        for job in stalled:
            await _take_over(app, job, settings.stalled_after_s)

    return app


async def _take_over(app: procrastinate.App, job: Job, silent_s: float) -> None:
    """Free a dead worker's job, and with it its tenant's lock, for the live nodes.

    Queued again as it was; unless the same cycle (or drain) of that tenant and flow is
    queued already (its queueing lock), which will settle whatever this one left in doubt,
    so this one is closed as failed instead of running twice.
    """
    what = f"job {job.id} ({job.task_name} {job.task_kwargs})"
    try:
        await app.job_manager.retry_job(job)
        log.warning("%s ran on a worker silent for over %.0fs; queued again", what, silent_s)
    except UniqueViolation:
        await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
        log.warning(
            "%s ran on a worker silent for over %.0fs; closed, since the same job is "
            "queued already and settles what it left",
            what,
            silent_s,
        )
    except ConnectorException as exc:
        # Another node's sweep took it over first (it is no longer "doing").
        log.info("%s not taken over: %s", what, exc)


async def defer(app: procrastinate.App, tenant: str, flow: str, kind: JobKind) -> bool:
    """Queue a cycle or drain; False when one is already waiting for that tenant and flow."""
    task = app.configure_task(
        name=CYCLE if kind == "cycle" else DRAIN,
        queue=TENANT_QUEUE,
        lock=tenant_lock(tenant),
        queueing_lock=queueing_lock(tenant, flow, kind),
    )
    try:
        await task.defer_async(tenant=tenant, flow=flow)
    except AlreadyEnqueued:
        return False
    return True
