"""A cluster node's admin endpoint: ``/healthz`` and ``/metrics``, as the single-VM service
serves them (:mod:`connector.admin`), on the node's ``[service] admin_host``/``admin_port``
behind the same optional bearer token (``admin_token_credential``, in the node's own vault).

``/healthz`` is 200 while every worker of the node runs and its heartbeat row is younger
than half the stalled-worker timeout (so a node about to lose its jobs reports it first),
503 otherwise; it names the tenants whose jobs the node runs now. ``/metrics`` is the
node's share of the cluster: per-tenant job and document counters, the last success of
each tenant's flow, running jobs and worker health.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from aiohttp import web

from connector.admin import bearer_middleware
from connector.logs import redactor
from connector.metrics import CONTENT_TYPE, Gauge
from connector.scale.directory import TenantDirectory
from connector.scale.settings import NodeSettings
from connector.scale.status import NodeStatus
from connector.vault import Vault, locate_key


def admin_token(settings: NodeSettings) -> str | None:
    """The bearer token the node's [service] names, from the node's own vault."""
    name = settings.service.admin_token_credential
    if name is None:
        return None
    located = locate_key(settings.vault)
    vault = Vault.open(settings.node_vault_path, located.key, key_source=located.source)
    token = vault.get(name).secret("token")
    redactor.register(token)
    return token


async def start_node_admin(settings: NodeSettings, status: NodeStatus) -> web.AppRunner:
    """Serve /healthz and /metrics on the node's admin host and port."""
    admin = web.Application(middlewares=[bearer_middleware(admin_token(settings))])
    directory = TenantDirectory(settings.database_url)
    admin.router.add_get("/healthz", partial(_healthz, settings, status, directory))
    admin.router.add_get("/metrics", partial(_metrics, settings, status, directory))
    runner = web.AppRunner(admin, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, settings.service.admin_host, settings.service.admin_port).start()
    return runner


async def _workers(
    settings: NodeSettings, status: NodeStatus, directory: TenantDirectory
) -> list[dict[str, Any]]:
    ids = [w.worker.worker_id for w in status.workers if w.worker.worker_id is not None]
    ages = await directory.heartbeat_ages(ids) if ids else {}
    limit = settings.stalled_after_s / 2
    workers = []
    for entry in status.workers:
        age = ages.get(entry.worker.worker_id) if entry.worker.worker_id is not None else None
        workers.append(
            {
                "name": entry.name,
                "queue": entry.queue,
                "alive": entry.alive,
                "heartbeat_age_s": None if age is None else round(age, 1),
                "ok": entry.alive and age is not None and age < limit,
            }
        )
    return workers


async def _healthz(
    settings: NodeSettings, status: NodeStatus, directory: TenantDirectory, request: web.Request
) -> web.Response:
    workers = await _workers(settings, status, directory)
    healthy = bool(workers) and all(w["ok"] for w in workers)
    running = sorted(status.running.values(), key=lambda job: job.started_at)
    return web.json_response(
        {
            "status": "ok" if healthy else "degraded",
            "node": status.name,
            "uptime_s": round(time.time() - status.started_at, 1),
            "workers": workers,
            "tenants": sorted({job.tenant for job in running}),
            "jobs": [
                {
                    "tenant": job.tenant,
                    "flow": job.flow,
                    "kind": job.kind,
                    "running_s": round(time.time() - job.started_at, 1),
                }
                for job in running
            ],
        },
        status=200 if healthy else 503,
    )


async def _metrics(
    settings: NodeSettings, status: NodeStatus, directory: TenantDirectory, request: web.Request
) -> web.Response:
    running = Gauge(
        "ml_connector_tenant_jobs_running", "Tenant jobs this node runs now.", ("tenant",)
    )
    for job in status.running.values():
        running.inc(tenant=job.tenant)
    alive = Gauge(
        "ml_connector_node_worker_up",
        "1 while the worker runs with a recent heartbeat, else 0.",
        ("worker",),
    )
    heartbeat = Gauge(
        "ml_connector_node_worker_heartbeat_age_seconds",
        "Seconds since the worker's last heartbeat row.",
        ("worker",),
    )
    for worker in await _workers(settings, status, directory):
        alive.set(1 if worker["ok"] else 0, worker=worker["name"])
        if worker["heartbeat_age_s"] is not None:
            heartbeat.set(worker["heartbeat_age_s"], worker=worker["name"])
    return web.Response(
        text=status.metrics.render(extra=[running, alive, heartbeat]),
        headers={"Content-Type": CONTENT_TYPE},
    )
