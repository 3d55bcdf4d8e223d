"""A tenant's state on the cluster's PostgreSQL: the job's advisory lock on the tenant's
schema, and what the job does when the server drops that lock under it."""

from __future__ import annotations

import asyncio
import threading
import time

import anyio
import psycopg
import pytest

from connector.scale.directory import TenantDirectory
from connector.scale.settings import NodeSettings
from connector.scale.state import open_tenant_store
from connector.scale.work import run_job
from connector.store import RecordKey, State, Store, Unit
from connector.store.lock import StateLockedError
from connector.store.pg import LockLostError
from connector.store.pg_schema import LOCK_NAMESPACE, lock_key
from tests.scale.cluster import add_tenants, wait_until
from tests.scale.toyledger.sim import ToyLedgerSim


def _kill_lock_session(database_url: str, tenant: str) -> int:
    """Terminate the session holding the tenant's state lock (what a server restart or an
    idle-session killer does to it); the number of sessions terminated."""
    with psycopg.connect(database_url, autocommit=True) as admin:
        rows = admin.execute(
            # With a timeout, the call returns once the session has exited (its locks gone).
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype = 'advisory' "
            "AND granted AND classid = %s::int4::oid AND objid = %s::int4::oid",
            (LOCK_NAMESPACE, lock_key("state", tenant)),
        ).fetchall()
    return len(rows)


def _take_over_lock(database_url: str, tenant: str) -> psycopg.Connection[tuple[object, ...]]:
    """Kill the session holding the tenant's lock while another session already waits for
    it, so the other one, not the writer's retake, gets it; that session, holding it."""
    holder: psycopg.Connection[tuple[object, ...]] = psycopg.connect(
        database_url, autocommit=True, application_name="ml-connector: pid 4242 on elsewhere"
    )
    params = (LOCK_NAMESPACE, lock_key("state", tenant))
    waiter = threading.Thread(
        target=holder.execute, args=("SELECT pg_advisory_lock(%s, %s)", params)
    )
    waiter.start()
    with psycopg.connect(database_url, autocommit=True) as admin:
        while not admin.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid = %s::int4::oid AND objid = %s::int4::oid", params
        ).fetchall():
            time.sleep(0.01)
        admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype = 'advisory' "
            "AND granted AND classid = %s::int4::oid AND objid = %s::int4::oid", params
        )
    waiter.join(timeout=10)
    return holder


async def _committed(store: Store, key: RecordKey) -> bool:
    return await store.ledger_entry(key) is not None


async def test_a_lock_killed_under_a_job_is_taken_again_before_the_next_write(
    settings: NodeSettings,
) -> None:
    """When nobody else took the tenant meanwhile, the next write takes the lock back, so
    a writer opened beside it afterwards is still refused."""
    store = await open_tenant_store(settings, "acme")
    try:
        assert _kill_lock_session(settings.database_url, "acme") == 1
        key = RecordKey("bills", "bills", "INV-1")
        await store.commit(Unit().ledger(key, State.DONE, target_id="B-1"))
        assert await _committed(store, key)
        assert store.exclusive
        with pytest.raises(StateLockedError):
            second = await open_tenant_store(settings, "acme")
            await second.close()
    finally:
        await store.close()


async def test_a_lock_taken_by_another_process_stops_the_job_writing(
    settings: NodeSettings,
) -> None:
    """When another process took the tenant's lock after the server dropped ours, the
    writer records nothing more and says why, instead of writing beside it as if alone."""
    store = await open_tenant_store(settings, "acme")
    other = None
    try:
        assert _kill_lock_session(settings.database_url, "acme") == 1
        other = await open_tenant_store(settings, "acme")
        key = RecordKey("bills", "bills", "INV-2")
        with pytest.raises(LockLostError, match="lost its advisory lock .* another ml-connector"):
            await store.commit(Unit().ledger(key, State.IN_FLIGHT))
        assert not store.exclusive
        assert not await _committed(other, key)
        with pytest.raises(LockLostError, match="records nothing more"):
            await store.commit(Unit().ledger(key, State.DONE, target_id="B-2"))
        assert not await _committed(other, key)
        # The process that holds the lock now writes as usual.
        await other.commit(Unit().ledger(key, State.DONE, target_id="B-2"))
    finally:
        await store.close()
        if other is not None:
            await other.close()


async def test_a_job_whose_tenant_another_process_took_stops_and_the_next_lands_the_rest(
    settings: NodeSettings,
) -> None:
    """A cycle whose lock the server dropped mid-run while another process took the tenant
    ends failed saying so, instead of writing on beside it; once that process lets go, the
    next cycle lands the rest, every invoice exactly once."""
    sim = ToyLedgerSim(write_latency_s=0.05)
    base_url = await sim.start()
    job = None
    try:
        await add_tenants(settings, sim, base_url, {"acme": 40}, limit=50, workers=2)
        directory = TenantDirectory(settings.database_url)
        acme = sim.tenants["acme"]
        job = asyncio.ensure_future(run_job(settings, directory, "acme", "bills", "cycle"))
        await wait_until(lambda: len(acme.bills) >= 5, timeout=15, what="a few bills")
        holder = await anyio.to_thread.run_sync(
            _take_over_lock, settings.database_url, "acme"
        )
        try:
            result = await job
            landed = len(acme.bills)
            await anyio.sleep(0.3)
            assert len(acme.bills) == landed  # nothing written after the job ended
        finally:
            holder.close()
        assert result.status == "failed"
        assert result.detail is not None and "lost its advisory lock" in result.detail
        assert "pid 4242 on elsewhere" in result.detail
        assert landed < 40
        assert (await run_job(settings, directory, "acme", "bills", "cycle")).status == "ok"
        assert sorted(str(b["ref"]) for b in acme.bills) == sorted(acme.invoices)
    finally:
        if job is not None:
            job.cancel()
        await sim.stop()
