"""One job's work, run in-process against the toyledger simulator and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest

from connector.http.limiter import RateLimiter
from connector.scale.directory import TenantDirectory
from connector.scale.settings import NodeSettings
from connector.scale.work import run_job
from tests.scale.cluster import add_tenants
from tests.scale.toyledger.sim import ToyLedgerSim


@pytest.fixture
async def sim(settings: NodeSettings) -> AsyncIterator[ToyLedgerSim]:
    sim = ToyLedgerSim()
    base_url = await sim.start()
    await add_tenants(settings, sim, base_url, {"acme": 12, "bolt": 3}, limit=20)
    yield sim
    await sim.stop()


async def test_a_cycle_lands_each_invoice_once(sim: ToyLedgerSim, settings: NodeSettings) -> None:
    """A cycle job writes every invoice of its tenant only; the next one writes nothing."""
    directory = TenantDirectory(settings.database_url)
    first = await run_job(settings, directory, "acme", "bills", "cycle")
    second = await run_job(settings, directory, "acme", "bills", "cycle")
    assert (first.status, second.status) == ("ok", "ok")
    acme = sim.tenants["acme"]
    assert sorted(b["ref"] for b in acme.bills) == sorted(acme.invoices)
    assert sim.tenants["bolt"].bills == []


async def test_a_removed_tenants_job_does_nothing(
    sim: ToyLedgerSim, settings: NodeSettings
) -> None:
    """A job queued before its tenant was removed is skipped without a request."""
    directory = TenantDirectory(settings.database_url)
    assert await directory.remove("acme")
    result = await run_job(settings, directory, "acme", "bills", "cycle")
    assert (result.status, result.detail) == ("skipped", "tenant removed")
    assert sim.tenants["acme"].arrivals == []


async def test_a_job_tells_the_next_how_long_its_burst_takes_to_drip(
    sim: ToyLedgerSim, settings: NodeSettings
) -> None:
    """After a job, the tenant's next job (on any node) waits for the rate limiter's burst
    to drip back, so two nodes' bursts never meet in one second."""
    directory = TenantDirectory(settings.database_url)
    await run_job(settings, directory, "bolt", "bills", "cycle")
    limiter = RateLimiter(20, 1.0, name="same as the tenant's")
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute(
            "SELECT gap_s FROM ml_connector_handoffs WHERE tenant = 'bolt'"
        ).fetchone()
    assert row is not None
    assert row[0] == pytest.approx(limiter.burst / limiter.steady_rate_per_s)


async def test_an_empty_inbox_sweep_costs_no_request(
    sim: ToyLedgerSim, settings: NodeSettings
) -> None:
    """The periodic inbox sweep of a tenant with no stored event sends nothing to it."""
    result = await run_job(settings, TenantDirectory(settings.database_url), "acme", "bills",
                           "drain")
    assert result.status == "idle"
    assert sim.tenants["acme"].arrivals == []
