"""The inbox's bulk claim: drains on several writers take disjoint events, leases lapse."""

from __future__ import annotations

import anyio

from connector.store import InboxEvent, Store, Unit, open_store


async def _put_events(store: Store, count: int) -> None:
    for n in range(count):
        assert await store.put_inbox_event(f"evt-{n}", "f", "invoice.updated", b"{}")


async def test_two_drains_claim_disjoint_events(state_url: str) -> None:
    """Two writers draining one inbox at once each take their own events, none twice,
    between them every one, each batch oldest first."""
    nodes = [await open_store(state_url, lock=False) for _ in range(2)]
    try:
        await _put_events(nodes[0], 50)
        taken: list[list[InboxEvent]] = []

        async def drain(store: Store) -> None:
            taken.append(await store.claim_inbox("f", 30, lease_s=300, owner=store.writer_id))

        async with anyio.create_task_group() as tg:
            for node in nodes:
                tg.start_soon(drain, node)
        ids = [[event.event_id for event in batch] for batch in taken]
        assert sorted(len(batch) for batch in ids) == [20, 30]
        assert set(ids[0]).isdisjoint(ids[1]) and len(set(ids[0]) | set(ids[1])) == 50
        for batch in taken:
            assert [e.received_at for e in batch] == sorted(e.received_at for e in batch)
    finally:
        for node in nodes:
            await node.close()


async def test_a_claimed_event_waits_for_its_lease_unless_its_writer_is_gone(
    state_url: str,
) -> None:
    """An event another live writer claimed is not taken until its lease lapses; a writer
    holding the state's lock (so no other writer lives) takes it at once; a processed event
    is never taken again."""
    node = await open_store(state_url, lock=False)
    try:
        await _put_events(node, 3)
        assert len(await node.claim_inbox("f", 10, lease_s=300, owner="node-a")) == 3
        assert await node.claim_inbox("f", 10, lease_s=300, owner="node-b") == []
        again = await node.claim_inbox("f", 10, lease_s=300, owner="node-a")
        assert len(again) == 3, "a writer re-takes its own claims"
        await node.commit(node.mark_inbox_processed(Unit(), "f", "evt-0"))
        lapsed = await node.claim_inbox("f", 10, lease_s=0, owner="node-b")
        assert sorted(e.event_id for e in lapsed) == ["evt-1", "evt-2"]
    finally:
        await node.close()
    sole = await open_store(state_url)
    try:
        assert sole.exclusive
        taken = await sole.claim_inbox("f", 10, lease_s=300, owner=sole.writer_id)
        assert sorted(e.event_id for e in taken) == ["evt-1", "evt-2"]
    finally:
        await sole.close()
