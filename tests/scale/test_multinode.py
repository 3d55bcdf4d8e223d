"""Three nodes, twenty tenants, two nodes killed mid-run: exactly once, within every
tenant's rate limit, across the whole cluster."""

from __future__ import annotations

from pathlib import Path

import anyio
import psycopg

from connector.scale.directory import TenantDirectory
from connector.scale.settings import NodeSettings
from connector.store import open_store
from tests.scale.cluster import Nodes, add_tenants, wait_until
from tests.scale.toyledger.sim import SimThread, ToyLedgerSim

TENANTS = {f"tenant_{n:02d}": 20 for n in range(20)}
LIMIT = 20


def _count(database_url: str, query: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def _running_jobs(database_url: str) -> int:
    return _count(
        database_url,
        "SELECT count(*) FROM procrastinate_jobs "
        "WHERE status = 'doing' AND task_name = 'ml_connector.cycle'",
    )


async def _run_and_kill(
    settings: NodeSettings, sim: ToyLedgerSim, base_url: str, nodes: Nodes
) -> dict[str, int | None]:
    """Three nodes up, the tenants added, two nodes killed mid-run and restarted, until
    every invoice is a bill; the nodes' exit codes after SIGTERM."""
    expected = sum(TENANTS.values())

    def landed() -> int:
        return sum(len(t.bills) for t in sim.tenants.values())

    try:
        await TenantDirectory(settings.database_url).create_schema()
        for name in ("n1", "n2", "n3"):
            nodes.start(name)
        # All three nodes up (two workers each) before the tenants arrive, however slowly
        # this machine starts processes: every node gets its share of the tenants.
        await wait_until(
            lambda: _count(settings.database_url, "SELECT count(*) FROM procrastinate_workers")
            == 6,
            timeout=40,
            what="three nodes' workers",
        )
        await add_tenants(settings, sim, base_url, TENANTS, limit=LIMIT, workers=8)
        # Every slot of every node busy (6 cycles running), some work done: a kill now
        # cuts jobs in the middle, between a write and its ledger commit for some.
        await wait_until(
            lambda: landed() >= expected // 5 and _running_jobs(settings.database_url) == 6,
            timeout=40,
            what="all six slots busy",
        )
        nodes.kill("n1")
        nodes.kill("n2")
        await anyio.sleep(1)
        nodes.start("n1")
        nodes.start("n2")
        await wait_until(
            lambda: all(len({b["ref"] for b in t.bills}) == len(t.invoices)
                        for t in sim.tenants.values()),
            timeout=45,
            what="every invoice in its tenant's bills",
        )
    finally:
        codes = await nodes.stop_all()
    return codes


async def test_two_nodes_killed_mid_run_lose_and_duplicate_nothing(
    settings: NodeSettings, tmp_path: Path
) -> None:
    """SIGKILL two of three nodes while every slot runs a tenant: their tenants move to
    the live nodes, every invoice lands exactly once, and no tenant ever gets more than
    its limit of requests in any second, whichever nodes sent them."""
    # Slow replies and eight writers per tenant: at the kill most writes are made in the
    # target and not yet answered, which leaves them in doubt for the next node; and the
    # writers could send twice the limit, so the limiter is what keeps them under it.
    simulator = SimThread(ToyLedgerSim(write_latency_s=0.2))
    nodes = Nodes(settings, tmp_path, workers=2)
    with simulator as sim:
        codes = await _run_and_kill(settings, sim, simulator.base_url, nodes)
    logs = nodes.logs(tail=3000)
    assert codes["n3"] == 0, logs
    for tenant, state in sim.tenants.items():
        refs = [str(b["ref"]) for b in state.bills]
        assert sorted(refs) == sorted(state.invoices), f"{tenant}: lost or duplicated"
        assert sim.max_per_rolling_second(tenant) <= LIMIT, tenant
        assert state.refused == 0, f"{tenant}: {state.refused} requests refused with 429"
    # The dead nodes' jobs were taken over through the heartbeat timeout, not by luck, and
    # what they left in doubt was settled by finding it in the target.
    assert nodes.logs().count("ran on a worker silent") >= 2, logs
    adopted = 0
    for tenant, state in sim.tenants.items():
        store = await open_store(settings.database_url, writer=False, schema=tenant)
        try:
            counts = await store.ledger_counts("bills")
            assert counts == {("bills", "bills", "done"): len(state.invoices)}, tenant
            for invoice in state.invoices:
                history = await store.audit_history("bills", invoice)
                adopted += sum(event.step == "adopted" for event in history)
        finally:
            await store.close()
    assert adopted >= 1
