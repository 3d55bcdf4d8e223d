"""The cluster's job rules on a real Procrastinate queue: one job per tenant at a time, one
waiting cycle per flow, schedules deferred once, dead workers' jobs freed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import procrastinate
import psycopg
import pytest

from connector.scale.directory import TenantDirectory
from connector.scale.jobs import TENANT_QUEUE, build_job_app, defer
from connector.scale.settings import NodeSettings
from connector.scale.tenant_config import tenant_config
from tests.scale.tenant_toml import tenant_toml


@pytest.fixture
async def job_app(settings: NodeSettings) -> AsyncIterator[procrastinate.App]:
    await TenantDirectory(settings.database_url).create_schema()
    app = build_job_app(settings)
    async with app.open_async():
        yield app


async def _add(settings: NodeSettings, tenant: str, schedule: str = "every 1h") -> None:
    text = tenant_toml("http://127.0.0.1:9", tenant, schedule=schedule)
    directory = TenantDirectory(settings.database_url)
    assert await directory.add(tenant, text, tenant_config(settings, tenant, text), replace=False)


def _jobs(settings: NodeSettings) -> list[tuple[str, str, str]]:
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(
            "SELECT status::text, task_name, args->>'tenant' FROM procrastinate_jobs "
            "WHERE queue_name = %s ORDER BY id",
            (TENANT_QUEUE,),
        ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


async def test_one_waiting_cycle_per_tenant_and_flow(job_app: procrastinate.App) -> None:
    """Asking for a cycle while one already waits queues nothing more."""
    assert await defer(job_app, "acme", "bills", "cycle") is True
    assert await defer(job_app, "acme", "bills", "cycle") is False
    assert await defer(job_app, "acme", "bills", "drain") is True
    assert await defer(job_app, "bolt", "bills", "cycle") is True


async def test_a_tenant_runs_on_one_worker_at_a_time(job_app: procrastinate.App) -> None:
    """While one of a tenant's jobs runs, no worker gets another job of that tenant; other
    tenants' jobs are handed out meanwhile."""
    manager = job_app.job_manager
    worker = await manager.register_worker()
    await defer(job_app, "acme", "bills", "cycle")
    await defer(job_app, "acme", "payables", "cycle")
    await defer(job_app, "bolt", "bills", "cycle")
    first = await manager.fetch_job([TENANT_QUEUE], worker)
    second = await manager.fetch_job([TENANT_QUEUE], worker)
    assert first is not None and first.task_kwargs["tenant"] == "acme"
    assert second is not None and second.task_kwargs["tenant"] == "bolt"
    assert await manager.fetch_job([TENANT_QUEUE], worker) is None
    await manager.finish_job(first, status=procrastinate.jobs.Status.SUCCEEDED, delete_job=False)
    third = await manager.fetch_job([TENANT_QUEUE], worker)
    assert third is not None and third.task_kwargs == {"tenant": "acme", "flow": "payables"}


async def test_tick_defers_due_cycles_once(
    job_app: procrastinate.App, settings: NodeSettings
) -> None:
    """A new tenant's cycle is due at once; the next tick, before its schedule comes round
    again, queues nothing more."""
    await _add(settings, "acme")
    await _add(settings, "bolt")
    tick = job_app.tasks["ml_connector.tick"]
    await tick(timestamp=0)
    assert _jobs(settings) == [("todo", "ml_connector.cycle", "acme"),
                               ("todo", "ml_connector.cycle", "bolt")]
    await tick(timestamp=1)
    assert len(_jobs(settings)) == 2


def _silence(settings: NodeSettings, worker_id: int) -> None:
    """What a SIGKILL leaves: the worker row stays, its heartbeat stops."""
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' "
            "WHERE id = %s",
            (worker_id,),
        )


async def test_a_dead_workers_job_is_queued_again(
    job_app: procrastinate.App, settings: NodeSettings
) -> None:
    """A job whose worker stopped its heartbeat goes back to the queue, tenant lock with it;
    a live worker's job is left alone."""
    manager = job_app.job_manager
    dead, alive = await manager.register_worker(), await manager.register_worker()
    await defer(job_app, "acme", "bills", "cycle")
    await defer(job_app, "bolt", "bills", "cycle")
    assert await manager.fetch_job([TENANT_QUEUE], dead) is not None
    assert await manager.fetch_job([TENANT_QUEUE], alive) is not None
    _silence(settings, dead)
    await job_app.tasks["ml_connector.requeue_stalled"](timestamp=0)
    assert _jobs(settings) == [("todo", "ml_connector.cycle", "acme"),
                               ("doing", "ml_connector.cycle", "bolt")]


async def test_a_dead_job_already_queued_again_is_closed(
    job_app: procrastinate.App, settings: NodeSettings
) -> None:
    """When the tick queued the same cycle meanwhile, the dead one is closed as failed
    (not run twice) and the tenant's lock is free for the queued one."""
    manager = job_app.job_manager
    dead = await manager.register_worker()
    await defer(job_app, "acme", "bills", "cycle")
    assert await manager.fetch_job([TENANT_QUEUE], dead) is not None
    await defer(job_app, "acme", "bills", "cycle")
    _silence(settings, dead)
    await job_app.tasks["ml_connector.requeue_stalled"](timestamp=0)
    assert _jobs(settings) == [("failed", "ml_connector.cycle", "acme"),
                               ("todo", "ml_connector.cycle", "acme")]
    live = await manager.register_worker()
    assert await manager.fetch_job([TENANT_QUEUE], live) is not None
