"""The SQLite writer thread's queue: what it answers, and in what order."""

from __future__ import annotations

import asyncio
from pathlib import Path

from connector.store import RecordKey, State, Store, Unit


async def test_a_bulk_claim_is_answered_while_a_backfill_still_queues_units(
    tmp_path: Path,
) -> None:
    """A ``write_returning`` (the webhook inbox's bulk claim) sent behind 20,000 queued
    units is answered in the writer's next pass, not after the whole backlog has
    committed: a busy backfill does not hold up webhook events."""
    store = await Store.open(tmp_path / "state.db")
    total = 20_000
    commits = [
        asyncio.ensure_future(store.commit(Unit().ledger(RecordKey("f", "s", str(n)), State.DONE)))
        for n in range(total)
    ]
    await asyncio.sleep(0)  # every unit queued before the claim
    rows = await store.db.write_returning(
        "INSERT INTO mappings (kind, source_key, target_value, updated_at) "
        "VALUES ('k', 'a', 'v', 0) RETURNING target_value"
    )
    committed_by_then = sum(commit.done() for commit in commits)
    await asyncio.gather(*commits)
    assert [tuple(row) for row in rows] == [("v",)]
    assert committed_by_then < total // 2
    assert (await store.ledger_counts("f"))[("f", "s", "done")] == total
    await store.close()
