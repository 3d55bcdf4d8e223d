"""A cluster node's /healthz and /metrics: its workers' health, the tenants it runs now,
and per-tenant counters in the service's Prometheus format, behind the bearer token."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from connector.config import ServiceConfig
from connector.scale.admin import start_node_admin
from connector.scale.directory import TenantDirectory
from connector.scale.jobs import TENANT_QUEUE, build_job_app
from connector.scale.settings import NodeSettings
from connector.scale.status import NodeStatus
from connector.vault import Vault, locate_key
from tests.scale.cluster import Nodes, add_tenants, free_port, wait_until
from tests.scale.toyledger.sim import SimThread, ToyLedgerSim

TOKEN = "node-admin-token-1"


async def _get(port: int, path: str, token: str | None = TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}{path}", headers=headers) as response:
            return response.status, await response.text()


def _sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of one sample of a Prometheus text exposition, None when absent."""
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and dict(re.findall(r'(\w+)="([^"]*)"', match[1])) == labels:
            return float(match[2])
    return None


async def test_a_node_reports_its_workers_tenants_and_per_tenant_counters(
    settings: NodeSettings, tmp_path: Path
) -> None:
    """While a tenant's job runs, the node's /healthz is ok and names that tenant; after
    the jobs, /metrics counts each tenant's jobs, documents created and last success; both
    refuse a request without the node's bearer token."""
    located = locate_key(settings.vault)
    vault = Vault.init(settings.state_dir / "connector.db", located.key,
                       key_source=located.source)
    vault.set("admin-token", "bearer", {"token": TOKEN})
    nodes = Nodes(settings, tmp_path, workers=2,
                  node_toml='[service]\nadmin_token_credential = "admin-token"\n')
    simulator = SimThread(ToyLedgerSim(write_latency_s=0.1))
    with simulator as sim:
        try:
            await add_tenants(settings, sim, simulator.base_url, {"acme": 30, "bolt": 4},
                              limit=20, schedule="every 1h")
            nodes.start("n1")
            port = nodes.admin_ports["n1"]
            seen: dict[str, Any] = {}

            async def running_acme() -> bool:
                try:
                    code, body = await _get(port, "/healthz")
                except aiohttp.ClientError:
                    return False
                seen.update(code=code, body=body)
                return code == 200 and '"acme"' in body.split('"tenants"', 1)[1]

            await _poll(running_acme, what="/healthz naming acme while its job runs",
                        logs=nodes.logs)
            assert '"status":"ok"' in seen["body"].replace(" ", "")
            assert (await _get(port, "/healthz", token=None))[0] == 401
            assert (await _get(port, "/metrics", token="wrong"))[0] == 401
            await wait_until(lambda: len(sim.tenants["acme"].bills) == 30
                             and len(sim.tenants["bolt"].bills) == 4,
                             timeout=30, what="every bill")
            metrics: dict[str, str] = {}

            async def counted() -> bool:
                metrics["text"] = (await _get(port, "/metrics"))[1]
                return all(
                    _sample(metrics["text"], "ml_connector_tenant_jobs_total", tenant=t,
                            flow="bills", kind="cycle", status="ok") == 1
                    for t in ("acme", "bolt")
                )

            await _poll(counted, what="both tenants' jobs counted", logs=nodes.logs)
        finally:
            codes = await nodes.stop_all()
    text = metrics["text"]
    assert "# TYPE ml_connector_tenant_jobs_total counter" in text
    for tenant, invoices in (("acme", 30), ("bolt", 4)):
        assert _sample(text, "ml_connector_tenant_documents_total", tenant=tenant,
                       flow="bills", outcome="created") == invoices
        assert _sample(text, "ml_connector_tenant_jobs_failed_total", tenant=tenant,
                       flow="bills", kind="cycle") == 0
        assert (_sample(text, "ml_connector_tenant_last_success_timestamp_seconds",
                        tenant=tenant, flow="bills") or 0) > 1.7e9
    assert codes == {"n1": 0}


async def _poll(condition: Any, *, what: str, logs: Any, timeout: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"no {what}\n{logs(tail=3000)}"
        await asyncio.sleep(0.05)


async def test_healthz_turns_degraded_when_a_worker_stalls_or_stops(
    settings: NodeSettings,
) -> None:
    """A worker whose heartbeat row has gone stale, or whose task ended, makes /healthz
    answer 503 "degraded" (the node is about to lose, or has lost, its jobs)."""
    port = free_port()
    settings = dataclasses.replace(
        settings, heartbeat_s=60.0, stalled_after_s=120.0,
        service=ServiceConfig(admin_port=port),
    )
    await TenantDirectory(settings.database_url).create_schema()
    status = NodeStatus("test-node")
    app = build_job_app(settings, status=status)
    async with app.open_async():
        entry = status.add_worker(app, "test-node/tenants", TENANT_QUEUE, concurrency=1,
                                  install_signal_handlers=False, update_heartbeat_interval=60.0,
                                  stalled_worker_timeout=120.0)
        admin = await start_node_admin(settings, status)
        task = entry.start()
        try:
            for _ in range(100):
                if entry.worker.worker_id is not None:
                    break
                await asyncio.sleep(0.05)
            code, body = await _get(port, "/healthz", token=None)
            assert code == 200, body
            with psycopg.connect(settings.database_url) as conn:
                conn.execute("UPDATE procrastinate_workers "
                             "SET last_heartbeat = now() - interval '61 seconds'")
            code, body = await _get(port, "/healthz", token=None)
            assert code == 503 and '"degraded"' in body
            assert _sample((await _get(port, "/metrics", token=None))[1],
                           "ml_connector_node_worker_up", worker="test-node/tenants") == 0
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            code, body = await _get(port, "/healthz", token=None)
            assert code == 503 and '"alive":false' in body.replace(" ", "")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await admin.cleanup()
