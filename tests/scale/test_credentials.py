"""A tenant whose credential is missing: its job fails at once naming the exact command
that fixes it, and waits for the flow's next schedule instead of retrying."""

from __future__ import annotations

from collections.abc import AsyncIterator

import procrastinate
import psycopg
import pytest

from connector.scale.directory import TenantDirectory
from connector.scale.jobs import TENANT_QUEUE, build_job_app
from connector.scale.settings import NodeSettings
from connector.scale.state import open_tenant_vault
from connector.scale.tenant_config import tenant_config
from connector.store import open_store
from tests.scale.tenant_toml import tenant_toml
from tests.scale.toyledger.sim import ToyLedgerSim

FIX = "`ml-connector tenants creds acme ledger-key --kind toyledger-key`"


@pytest.fixture
async def job_app(settings: NodeSettings) -> AsyncIterator[procrastinate.App]:
    await TenantDirectory(settings.database_url).create_schema()
    app = build_job_app(settings)
    async with app.open_async():
        yield app


def _rows(settings: NodeSettings, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(settings.database_url) as conn:
        return list(conn.execute(query).fetchall())


async def test_a_missing_credential_fails_once_naming_the_fix_and_waits_for_the_schedule(
    job_app: procrastinate.App, settings: NodeSettings
) -> None:
    """The tick's cycle for a tenant added without its credential fails on its first
    attempt with the `tenants creds` command to run, sends nothing to the tenant, is not
    queued again, and the flow's next cycle is a whole schedule away."""
    sim = ToyLedgerSim()
    base_url = await sim.start()
    try:
        sim.seed("acme", "key-acme", 3, limit=20)
        text = tenant_toml(base_url, "acme", schedule="every 1h")
        directory = TenantDirectory(settings.database_url)
        await directory.add("acme", text, tenant_config(settings, "acme", text), replace=False)
        open_tenant_vault(settings, "acme", create=True)  # `tenants add`; no `tenants creds`
        await job_app.tasks["ml_connector.tick"](timestamp=0)
        await job_app.run_worker_async(
            queues=[TENANT_QUEUE], wait=False, install_signal_handlers=False,
            listen_notify=False, delete_jobs="successful",
        )
        assert sim.tenants["acme"].arrivals == []
    finally:
        await sim.stop()
    jobs = _rows(settings, "SELECT status::text, attempts FROM procrastinate_jobs "
                           "WHERE queue_name = 'ml_connector_tenants'")
    assert jobs == [("failed", 1)]
    (wait_s,) = _rows(settings, "SELECT extract(epoch FROM next_due - now())::float8 "
                                "FROM ml_connector_schedules WHERE tenant = 'acme'")[0]
    assert 3500 < float(wait_s) <= 3600  # type: ignore[arg-type]
    store = await open_store(settings.database_url, writer=False, schema="acme")
    try:
        (run,) = await store.runs(flow="bills")
    finally:
        await store.close()
    assert run.status == "failed"
    assert run.error is not None and FIX in run.error
    assert "creds set" not in run.error
