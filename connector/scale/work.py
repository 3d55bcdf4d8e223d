"""One job's work: a (tenant, flow) sync cycle or webhook-inbox drain, start to finish.

A job opens the tenant's state, builds the flow exactly as ``ml-connector run`` does
(:class:`connector.app.App`), runs it and closes everything. It may run more than once and
may be cut anywhere (a node killed mid-write): the next job for the tenant opens the same
state, finds the records the dead one left in flight, and settles each by a live lookup in
the target before writing (the exactly-once contract of :mod:`connector.runtime.flow`).

**Hand-over between nodes.** A tenant's job lock keeps one node at a time on a tenant, and
every request goes through the tenant's rate limiter; but each job builds its limiter
afresh, and a fresh leaky bucket may send its whole burst at once. Right after another
node's job, the two bursts could meet in one window. So a job records, as it ends, how long
its limiters need to drip a burst back (:func:`handoff_gap`) and the tenant's next job, on
any node, waits that long after the end before it starts: in any window the tenant then
sends at most one burst plus the steady rate, as on a single node.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anyio

from connector.app import App, apply_config_mappings
from connector.http.limiter import LimiterRegistry
from connector.logs import log_context, redactor
from connector.scale.directory import JobKind, TenantDirectory
from connector.scale.settings import NodeSettings
from connector.scale.state import open_tenant_store, open_tenant_vault
from connector.scale.tenant_config import tenant_config

log = logging.getLogger("connector.scale")


@dataclass(frozen=True)
class JobResult:
    """What a job did, as the node logs it."""

    tenant: str
    flow: str
    kind: JobKind
    status: str
    run_id: int | None = None
    detail: str | None = None


def handoff_gap(limiters: LimiterRegistry) -> float:
    """Seconds the slowest of these limiters takes to drip a full burst back."""
    return max(
        (limiter.burst / limiter.steady_rate_per_s for _, limiter in limiters.items()),
        default=0.0,
    )


async def run_job(
    settings: NodeSettings, directory: TenantDirectory, tenant: str, flow: str, kind: JobKind
) -> JobResult:
    """Run one job; a tenant or flow removed since the job was queued is skipped."""
    row = await directory.get(tenant)
    if row is None:
        return JobResult(tenant, flow, kind, "skipped", detail="tenant removed")
    config = tenant_config(settings, tenant, row.config_toml)
    flow_config = config.flows.get(flow)
    if flow_config is None or not flow_config.enabled:
        return JobResult(tenant, flow, kind, "skipped", detail="flow removed or disabled")
    await anyio.sleep(await directory.wait_before_first_request(tenant))
    store = await open_tenant_store(settings, tenant)
    app: App | None = None
    try:
        vault = open_tenant_vault(settings, tenant)
        await store.interrupt_running()
        await apply_config_mappings(store, config)
        app = App(config, store, vault)
        for system in config.systems.values():
            for value in vault.get(system.credential).fields.values():
                redactor.register(value)
        # A sweep of an empty inbox must not cost the tenant a request (building the flow
        # asks the target).
        if kind == "drain" and not await store.pending_inbox(flow, limit=1):
            return JobResult(tenant, flow, kind, "idle")
        with log_context(flow=flow):
            runner = await app.runner(flow)
            if kind == "drain":
                report = await runner.drain_inbox()
            else:
                report = await runner.cycle(streams=flow_config.streams, trigger="schedule")
        return JobResult(tenant, flow, kind, report.status, report.run_id, report.error)
    finally:
        with anyio.CancelScope(shield=True):
            gap = 0.0
            if app is not None:
                gap = handoff_gap(app.limiters)
                await app.aclose()
            else:
                await store.close()
            await directory.record_handoff(tenant, gap)
