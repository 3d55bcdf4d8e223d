"""Per-record locks: one holder per record, sets taken without deadlock, nothing kept."""

from __future__ import annotations

import asyncio

import anyio

from connector.runtime.locks import KeyLocks
from connector.store import RecordKey


def key(source_id: str) -> RecordKey:
    return RecordKey("flow", "docs", source_id)


async def test_a_second_holder_waits_for_the_first() -> None:
    """A webhook and a poll on one record: the second starts only after the first is done."""
    locks = KeyLocks()
    order: list[str] = []

    async def hold(name: str) -> None:
        async with locks.hold(key("1")):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    async with anyio.create_task_group() as tg:
        tg.start_soon(hold, "a")
        tg.start_soon(hold, "b")
    assert order == ["a in", "a out", "b in", "b out"]
    assert not locks._held


async def test_overlapping_sets_taken_in_opposite_orders_never_deadlock() -> None:
    """Two batches holding {1,2} and {2,1} both finish: keys are taken in one order."""
    locks = KeyLocks()
    done: list[str] = []

    async def batch(name: str, ids: list[str]) -> None:
        for _ in range(20):
            async with locks.hold_many([key(i) for i in ids]):
                await asyncio.sleep(0)
        done.append(name)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(batch, "x", ["1", "2", "3"])
            tg.start_soon(batch, "y", ["3", "2", "1"])
    assert sorted(done) == ["x", "y"] and not locks._held


async def test_a_cancelled_waiter_neither_blocks_nor_keeps_the_key() -> None:
    """A waiter cancelled while queued is skipped: the next one gets the key, then it is free."""
    locks = KeyLocks()
    entered: list[str] = []
    release_first = anyio.Event()
    cancel_doomed = anyio.CancelScope()

    async def first() -> None:
        async with locks.hold(key("1")):
            await release_first.wait()

    async def doomed() -> None:
        with cancel_doomed:
            async with locks.hold(key("1")):
                entered.append("doomed")

    async def later() -> None:
        async with locks.hold(key("1")):
            entered.append("later")

    async with anyio.create_task_group() as tg:
        for task in (first, doomed, later):
            tg.start_soon(task)
            await anyio.wait_all_tasks_blocked()
        cancel_doomed.cancel()
        await anyio.wait_all_tasks_blocked()
        release_first.set()
    assert entered == ["later"] and not locks._held
