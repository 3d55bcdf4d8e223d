"""Batches of records through the exactly-once protocol: one ledger read, one claim
commit and one final commit per batch, and per record the same fate as one at a time."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from connector.errors import UnavailableError
from connector.runtime.batch import MAX_RECORDS, BatchItem, BatchSizer, process_batch
from connector.runtime.flow import CursorMark, Envelope, Found, LoadContext, Outcome, Written
from connector.runtime.locks import KeyLocks
from connector.runtime.processor import RecordProcessor
from connector.runtime.runner import FlowRunner
from connector.store import RecordKey, State, Store, Unit
from connector.store.grouped import Guard
from tests.runtime.test_processor import Doc, Post, Target, docs, make_flow

MAPPINGS = {"unit_cc": {"north": "CC100"}}


class CountingTarget(Target):
    """The in-memory target, counting lookups and refusing the n-th write with an outage."""

    def __init__(self, outage_on_write: int = 0) -> None:
        super().__init__()
        self.finds = 0
        self.calls: list[str] = []
        self.outage_on_write = outage_on_write

    async def find(self, command: Post) -> Found | None:
        self.finds += 1
        self.calls.append(f"find {command.number}")
        return await super().find(command)

    async def write(self, command: Post, existing: Found | None, ctx: LoadContext) -> Written:
        self.calls.append(f"write {command.number}")
        if self.outage_on_write and len(self.calls) // 2 == self.outage_on_write:
            raise UnavailableError("the target is down for maintenance")
        return await super().write(command, existing, ctx)


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    """An open state database with the unit → cost center mapping for 'north'."""
    s = await Store.open(db_path)
    await s.set_mappings("unit_cc", MAPPINGS["unit_cc"])
    yield s
    await s.close()


def batch_of(processor: RecordProcessor, source: dict[int, Doc]) -> list[BatchItem]:
    stream = processor.flow.streams[0]
    envelopes = [Envelope(str(i), doc) for i, doc in source.items()]
    return [BatchItem(e, processor.map(stream, e)) for e in envelopes]


def processor_for(store: Store, target: Target, n: int = 10) -> RecordProcessor:
    return RecordProcessor(make_flow(docs(n), target), store, MAPPINGS, KeyLocks())


async def states(store: Store, n: int) -> dict[str, State]:
    entries = await store.ledger_entries("test-flow", "docs", [str(i) for i in range(1, n + 1)])
    return {source_id: entry.state for source_id, entry in entries.items()}


async def test_a_batch_claims_in_one_commit_and_finishes_in_another(store: Store) -> None:
    """Ten new records: two commits in all, a lookup before every write, every record done."""
    target = CountingTarget()
    processor = processor_for(store, target)
    units_before = store.db.units_total
    outcome = await process_batch(
        processor, processor.flow.streams[0], batch_of(processor, docs(10)), None
    )
    assert [r.outcome if r else None for r in outcome.results] == [Outcome.CREATED] * 10
    assert outcome.halted is None
    assert store.db.units_total - units_before == 2
    assert target.calls == [f"{step} INV-{i}" for i in range(1, 11) for step in ("find", "write")]
    assert set((await states(store, 10)).values()) == {State.DONE}
    history = await store.audit_history("test-flow", "7")
    assert [event.step for event in history] == ["read", "mapped", "written"]


async def test_a_claim_lost_in_a_batch_leaves_only_that_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a state shared by several writers that reads and claims in two steps (as
    PostgreSQL does), another writer claims record 3 between our read and our claims: it
    is left to them, the other nine land."""
    store = await Store.open(tmp_path / "shared.db", lock=False)
    target = CountingTarget()
    processor = processor_for(store, target)
    db = store.db

    async def read_other_writer_claims_3_then_write(guard: Guard) -> list[Any]:
        guard.rows = await db.fetchall(*guard.query())
        key = RecordKey("test-flow", "docs", "3")
        await store.commit(Unit().claim(key, None, content_hash="theirs", run_id=None, owner="b"))
        await db.write(guard.unseen())
        return guard.rows

    monkeypatch.setattr(db, "write_unseen", read_other_writer_claims_3_then_write)
    outcome = await process_batch(
        processor, processor.flow.streams[0], batch_of(processor, docs(10)), None
    )
    outcomes = [r.outcome if r else None for r in outcome.results]
    assert outcomes[2] == Outcome.DEFERRED and outcomes.count(Outcome.CREATED) == 9
    assert "INV-3" not in target.rows and target.writes == 9
    theirs = (await store.ledger_entries("test-flow", "docs", ["3"]))["3"]
    assert theirs.claimed_by == "b" and theirs.attempts == 1
    await store.close()


async def test_an_outage_mid_batch_commits_what_landed_and_puts_back_the_rest(
    store: Store,
) -> None:
    """Write 3 hits an outage: 1-2 are done, 3 stays pending, 4-10 go back untried."""
    target = CountingTarget(outage_on_write=3)
    processor = processor_for(store, target)
    outcome = await process_batch(
        processor, processor.flow.streams[0], batch_of(processor, docs(10)), None
    )
    assert outcome.halted is not None and "maintenance" in str(outcome.halted)
    assert [r.outcome if r else None for r in outcome.results] == [Outcome.CREATED] * 2 + [
        None
    ] * 8
    assert target.writes == 2 and len(target.calls) == 6
    ledger = await states(store, 10)
    assert [ledger[str(i)] for i in range(1, 11)] == [State.DONE] * 2 + [State.PENDING] * 8
    [untried] = (await store.ledger_entries("test-flow", "docs", ["5"])).values()
    assert untried.last_error is not None and "not tried" in untried.last_error
    assert (await store.audit_history("test-flow", "5"))[-1].step == "deferred"


async def test_a_stop_before_landing_puts_every_claim_back(store: Store) -> None:
    """Shutdown between claim and write: nothing is written, every record is pending again."""
    target = CountingTarget()
    processor = processor_for(store, target, 4)
    outcome = await process_batch(
        processor,
        processor.flow.streams[0],
        batch_of(processor, docs(4)),
        None,
        stopped=lambda: True,
    )
    assert outcome.results == [None] * 4 and target.calls == []
    assert set((await states(store, 4)).values()) == {State.PENDING}
    second = await FlowRunner(make_flow(docs(4), target), store).cycle()
    assert second.total("created") == 4 and target.writes == 4
    assert target.finds == 4  # seen before: each was looked up before it was written


async def test_records_seen_twice_in_one_read_land_once(store: Store) -> None:
    """A source that returns a record twice in a row gets it written once, then unchanged."""
    target = CountingTarget()
    flow = make_flow(docs(5), target)

    async def twice(cursor: str | None, full: bool) -> AsyncIterator[Envelope[Doc] | CursorMark]:
        for i, doc in docs(5).items():
            yield Envelope(str(i), doc)
            yield Envelope(str(i), doc)

    stream = dataclasses.replace(flow.streams[0], extract=twice)
    report = await FlowRunner(dataclasses.replace(flow, streams=(stream,)), store).cycle()
    assert report.total("created") == 5 and report.total("unchanged") == 5
    assert target.writes == 5


def test_batch_size_follows_the_landing_time() -> None:
    """Slow writes keep batches at one record; fast ones double them up to the cap."""
    slow = BatchSizer()
    slow.observe(1, 0.2)
    assert slow.size == 1
    fast = BatchSizer()
    sizes = []
    for _ in range(10):
        fast.observe(fast.size, fast.size * 0.00001)
        sizes.append(fast.size)
    assert sizes == [2, 4, 8, 16, 32, 64, 128, 256, 256, 256] and MAX_RECORDS == 256
    fast.observe(1, 0.05)  # the target slowed down: the next batch is smaller at once
    assert fast.size < 256
