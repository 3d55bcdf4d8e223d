"""A node's webhook receiver: a delivery lands in the tenant's inbox and queues a drain job,
which writes the record under the tenant's lock like any cycle."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import procrastinate
import psycopg
import pytest

from connector.scale.directory import TenantDirectory
from connector.scale.jobs import build_job_app
from connector.scale.settings import NodeSettings
from connector.scale.state import open_tenant_vault
from connector.scale.tenant_config import tenant_config
from connector.scale.webhooks import start_receiver
from connector.scale.work import run_job
from tests.pg import free_port
from tests.scale.tenant_toml import tenant_toml
from tests.scale.toyledger.sim import ToyLedgerSim


@pytest.fixture
async def receiver(settings: NodeSettings) -> AsyncIterator[tuple[str, ToyLedgerSim]]:
    """A toyledger tenant ``acme`` taking webhooks, and a node's receiver; its base URL."""
    sim = ToyLedgerSim()
    base_url = await sim.start()
    sim.seed("acme", "key-acme", 0, limit=20)
    directory = TenantDirectory(settings.database_url)
    await directory.create_schema()
    text = tenant_toml(base_url, "acme", schedule="every 1h", webhook_token="hook-secret")
    await directory.add("acme", text, tenant_config(settings, "acme", text), replace=False)
    open_tenant_vault(settings, "acme", create=True).set(
        "ledger-key", "toyledger-key", {"key": "key-acme"}
    )
    app: procrastinate.App = build_job_app(settings)
    port = free_port()
    async with app.open_async():
        runner = await start_receiver(settings, app, port)
        yield f"http://127.0.0.1:{port}", sim
        await runner.cleanup()
    await sim.stop()


def _queued_drains(settings: NodeSettings) -> list[str]:
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(
            "SELECT args->>'tenant' FROM procrastinate_jobs "
            "WHERE task_name = 'ml_connector.drain' AND status = 'todo'"
        ).fetchall()
    return [str(row[0]) for row in rows]


async def _deliver(url: str, token: str, event_id: str, invoice_id: str) -> int:
    async with aiohttp.ClientSession() as session, session.post(
        url,
        json={"id": event_id, "invoice": {"id": invoice_id, "amount": 777}},
        headers={"X-Toy-Token": token},
    ) as response:
        return response.status


async def test_a_delivery_queues_a_drain_that_writes_the_record(
    receiver: tuple[str, ToyLedgerSim], settings: NodeSettings
) -> None:
    """An invoice announced by webhook becomes a bill through one queued drain job; a
    second delivery while that drain waits queues no second one."""
    base, sim = receiver
    sim.tenants["acme"].invoices["acme-new-1"] = 777
    sim.tenants["acme"].invoices["acme-new-2"] = 778
    url = f"{base}/webhooks/acme/bills"
    assert await _deliver(url, "hook-secret", "evt-1", "acme-new-1") == 200
    assert await _deliver(url, "hook-secret", "evt-2", "acme-new-2") == 200
    assert _queued_drains(settings) == ["acme"]
    result = await run_job(settings, TenantDirectory(settings.database_url), "acme", "bills",
                           "drain")
    assert result.status == "ok"
    assert sorted(b["ref"] for b in sim.tenants["acme"].bills) == ["acme-new-1", "acme-new-2"]


async def test_a_forged_delivery_queues_nothing(
    receiver: tuple[str, ToyLedgerSim], settings: NodeSettings
) -> None:
    """A delivery with the wrong token is refused by the system's own check: no job."""
    base, _ = receiver
    assert await _deliver(f"{base}/webhooks/acme/bills", "guess", "evt-1", "acme-x") == 401
    assert await _deliver(f"{base}/webhooks/nobody/bills", "hook-secret", "e", "x") == 404
    assert _queued_drains(settings) == []
