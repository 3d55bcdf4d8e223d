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
from dataclasses import dataclass, field

import anyio

from connector import registry
from connector.app import App, apply_config_mappings
from connector.config import Config, FlowConfig
from connector.errors import ConfigurationError
from connector.http.limiter import LimiterRegistry
from connector.logs import log_context, redactor
from connector.scale.directory import JobKind, TenantDirectory
from connector.scale.settings import NodeSettings
from connector.scale.state import open_tenant_store, open_tenant_vault
from connector.scale.tenant_config import tenant_config
from connector.store import Store
from connector.vault import Vault

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
    #: Records by outcome (``created``, ``unchanged``, ``failed``…), every stream summed.
    outcomes: dict[str, int] = field(default_factory=dict)


class MissingCredentialError(ConfigurationError):
    """A tenant's flow names a credential its vault does not hold. The job fails at once,
    without a request and without a retry: the flow runs again at its next schedule."""


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
        # A sweep of an empty inbox must not cost the tenant a request (building the flow
        # asks the target), nor report a missing credential every 30 seconds.
        if kind == "drain" and not await store.pending_inbox(flow, limit=1):
            return JobResult(tenant, flow, kind, "idle")
        await _check_credentials(store, vault, config, tenant, flow, kind)
        await apply_config_mappings(store, config)
        app = App(config, store, vault)
        for system in config.systems.values():
            for value in vault.get(system.credential).fields.values():
                redactor.register(value)
        with log_context(flow=flow):
            runner = await app.runner(flow)
            if kind == "drain":
                report = await runner.drain_inbox()
            else:
                report = await runner.cycle(streams=flow_config.streams, trigger="schedule")
        outcomes: dict[str, int] = {}
        for counts in report.streams.values():
            for outcome, n in counts.outcomes.items():
                outcomes[outcome] = outcomes.get(outcome, 0) + n
        return JobResult(
            tenant, flow, kind, report.status, report.run_id, report.error, outcomes
        )
    finally:
        with anyio.CancelScope(shield=True):
            gap = 0.0
            if app is not None:
                gap = handoff_gap(app.limiters)
                await app.aclose()
            else:
                await store.close()
            await directory.record_handoff(tenant, gap)


async def _check_credentials(
    store: Store, vault: Vault, config: Config, tenant: str, flow: str, kind: JobKind
) -> None:
    """Fail the job before any request when the flow's systems name a credential the
    tenant's vault lacks, saying the exact command that stores it; the failure is a run of
    the flow (``tenants list`` and ``runs`` show it), and the flow waits for its schedule."""
    flow_config: FlowConfig = config.flows[flow]
    stored = {info.name for info in vault.list()}
    for name in (flow_config.source, flow_config.target):
        system = config.systems[name]
        if system.credential in stored:
            continue
        try:
            kinds = registry.system(system.kind).credential_kinds
        except KeyError:
            kinds = ()  # an unknown kind: App names it when the credential is there
        cred_kind = kinds[0].name if kinds else "KIND"
        message = (
            f"tenant {tenant}, flow {flow}: no credential {system.credential!r} (for system "
            f"{name}, kind {cred_kind}) in the tenant's vault. Store it with "
            f"`ml-connector tenants creds {tenant} {system.credential} --kind {cred_kind}`; "
            f"the flow runs again at its next schedule ({flow_config.schedule})"
        )
        run_id = await store.start_run(flow, "schedule" if kind == "cycle" else "webhook")
        await store.finish_run(run_id, "failed", {}, message)
        raise MissingCredentialError(message)
