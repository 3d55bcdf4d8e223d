"""The exactly-once protocol, driven through FlowRunner against an in-memory target.

The target here is a test double of an *external system* (not of our own client): it stores
records by natural key and can fail the way real systems do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from connector.errors import (
    InDoubtError,
    MappingError,
    RejectedError,
    SourceDataError,
    UnavailableError,
)
from connector.runtime import processor
from connector.runtime.flow import (
    ChangePolicy,
    CursorMark,
    Envelope,
    Flow,
    Found,
    LoadContext,
    MapContext,
    Outcome,
    Stream,
    Written,
)
from connector.runtime.runner import FlowRunner
from connector.store import ClaimLostError, RecordKey, State, Store, Unit, is_postgres, open_store
from connector.store.grouped import Guard


class Doc(msgspec.Struct, frozen=True):
    id: int
    number: str
    amount: int
    unit: str = "north"


class Post(msgspec.Struct, frozen=True):
    number: str
    amount: int
    cost_center: str


class Target:
    """A target keyed by document number, with scripted failures."""

    def __init__(self) -> None:
        self.rows: dict[str, Post] = {}
        self.writes = 0
        self.fail_next: list[Exception] = []
        self.commit_then_fail = 0
        self.store_then_outage = 0
        #: Documents saved but not released (present-incomplete), and the release count.
        self.unreleased: set[str] = set()
        self.releases = 0
        #: Fail the release step of the next N creates (the document stays saved).
        self.release_refused = 0
        #: Failures of the next lookups (an outage while looking a record up).
        self.find_fails: list[Exception] = []

    async def find(self, command: Post) -> Found | None:
        if self.find_fails:
            raise self.find_fails.pop(0)
        if command.number in self.rows:
            return Found(
                command.number,
                matches=self.rows[command.number] == command,
                complete=command.number not in self.unreleased,
            )
        return None

    async def write(self, command: Post, existing: Found | None, ctx: LoadContext) -> Written:
        if existing is not None and not existing.complete:
            self.unreleased.discard(existing.target_id)
            self.releases += 1
            return Written(Outcome.UPDATED, existing.target_id)
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.writes += 1
        self.rows[command.number] = command
        if self.release_refused:
            self.release_refused -= 1
            self.unreleased.add(command.number)
            raise RejectedError("release refused: period closed", record=command.number)
        if self.store_then_outage:
            self.store_then_outage -= 1
            raise UnavailableError("the second step of the write hit an outage")
        if self.commit_then_fail:
            self.commit_then_fail -= 1
            raise InDoubtError("reply lost after the write was sent", record=command.number)
        return Written(Outcome.UPDATED if existing else Outcome.CREATED, command.number)


def map_doc(doc: Doc, ctx: MapContext) -> Post:
    if doc.amount < 0:
        raise SourceDataError(f"doc {doc.id} has a negative amount", record=f"doc {doc.id}")
    cc = ctx.lookup("unit_cc", doc.unit)
    if cc is None:
        raise MappingError(
            f"business unit {doc.unit!r} has no cost center",
            mapping_kind="unit_cc",
            mapping_key=doc.unit,
        )
    return Post(doc.number, doc.amount, cc)


def make_flow(
    source: dict[int, Doc],
    target: Target,
    *,
    reference: bool = False,
    on_change: ChangePolicy | None = None,
) -> Flow:
    async def extract(cursor: str | None, full: bool) -> AsyncIterator[Envelope[Doc] | CursorMark]:
        start = 0 if full or cursor is None else int(cursor)
        for doc_id in sorted(source):
            if doc_id > start:
                yield Envelope(str(doc_id), source[doc_id], cursor=str(doc_id))

    async def fetch(source_id: str) -> Doc | None:
        return source.get(int(source_id))

    stream: Stream[Doc, Post] = Stream(
        name="docs",
        extract=extract,
        fetch=fetch,
        decode=lambda raw: msgspec.json.decode(raw, type=Doc),
        encode=msgspec.json.encode,
        map=map_doc,
        target=target,
        reference=reference,
        on_change=on_change,
        workers=3,
    )
    return Flow("test-flow", (stream,))


@pytest.fixture
async def store(state_url: str) -> AsyncIterator[Store]:
    """An open store (on each backend) with the unit → cost center mapping for 'north'."""
    s = await open_store(state_url)
    await s.set_mappings("unit_cc", {"north": "CC100"})
    yield s
    await s.close()


def docs(n: int) -> dict[int, Doc]:
    return {i: Doc(i, f"INV-{i}", 100 + i) for i in range(1, n + 1)}


async def test_second_cycle_writes_nothing(store: Store) -> None:
    """Every record lands once; the next cycle finds nothing new and writes nothing."""
    target = Target()
    runner = FlowRunner(make_flow(docs(50), target), store)
    first = await runner.cycle()
    assert first.ok and first.total("created") == 50 and target.writes == 50
    second = await runner.cycle(full=True)
    assert second.total("unchanged") == 50 and target.writes == 50
    assert await store.cursor("test-flow", "docs") == "50"


async def test_changed_source_record_is_updated_once(store: Store) -> None:
    """Under the ``update`` policy a record whose mapped content changes is written again."""
    source, target = docs(3), Target()
    runner = FlowRunner(make_flow(source, target, on_change="update"), store)
    await runner.cycle()
    source[2] = Doc(2, "INV-2", 999)
    report = await runner.cycle(full=True)
    assert report.total("updated") == 1 and report.total("unchanged") == 2
    assert target.rows["INV-2"].amount == 999


async def test_in_doubt_write_is_settled_by_lookup_not_rewrite(store: Store) -> None:
    """A write whose reply was lost is found in the target and never written twice."""
    target = Target()
    target.commit_then_fail = 1
    runner = FlowRunner(make_flow(docs(5), target), store)
    report = await runner.cycle()
    assert report.ok and target.writes == 5 and len(target.rows) == 5
    history = [e.step for e in await store.audit_history("test-flow", "1")]
    assert "in_doubt" in history and history[-1] == "written"


async def test_crash_between_write_and_commit_does_not_duplicate(store: Store) -> None:
    """A record left in_flight by a crash is verified in the target first, then adopted."""
    source, target = docs(3), Target()
    flow = make_flow(source, target)
    # The crashed process had sent the write for doc 2 but never recorded it.
    target.rows["INV-2"] = Post("INV-2", 102, "CC100")
    await store.commit(Unit().ledger(RecordKey("test-flow", "docs", "2"), State.IN_FLIGHT))
    report = await FlowRunner(flow, store).cycle()
    assert report.ok and target.writes == 2 and len(target.rows) == 3
    assert report.total("unchanged") == 1


async def test_missing_mapping_goes_to_review_and_resumes(store: Store) -> None:
    """A record with an unmapped unit waits in review and lands after the mapping is added."""
    source, target = docs(3), Target()
    source[2] = Doc(2, "INV-2", 102, unit="south")
    runner = FlowRunner(make_flow(source, target), store)
    report = await runner.cycle()
    assert report.total("review") == 1 and report.total("created") == 2
    [item] = await store.review_items(flow="test-flow")
    assert item.mapping_key == "south" and "south" in item.reason
    assert await runner.cycle(full=True) and "INV-2" not in target.rows
    await store.set_mappings("unit_cc", {"south": "CC200"})
    resumed = await runner.resume_review()
    assert resumed.total("created") == 1 and target.rows["INV-2"].cost_center == "CC200"
    assert await store.review_items(flow="test-flow") == []


async def test_bad_source_data_is_dead_lettered_and_run_goes_on(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A negative amount becomes a dead letter with a reason, logged with the record's key;
    the other records land."""
    source, target = docs(4), Target()
    source[3] = Doc(3, "INV-3", -5)
    with caplog.at_level("WARNING", logger="connector.records"):
        report = await FlowRunner(make_flow(source, target), store).cycle()
    [logged] = [r for r in caplog.records if "dead letter" in r.getMessage()]
    assert (logged.flow, logged.stream, logged.source_id) == ("test-flow", "docs", "3")  # type: ignore[attr-defined]
    assert report.total("failed") == 1 and report.total("created") == 3
    [letter] = await store.dead_letters(flow="test-flow")
    assert letter.key.source_id == "3" and "negative amount" in letter.reason


async def test_replay_after_fixed_fault_lands_exactly_once(store: Store) -> None:
    """A rejected record is replayed after the cause is fixed and lands once."""
    target = Target()
    target.fail_next = [RejectedError("supplier blocked", field="SUNO")]
    runner = FlowRunner(make_flow(docs(1), target), store)
    first = await runner.cycle()
    assert first.total("failed") == 1 and target.rows == {}
    again = await runner.cycle(full=True)
    assert again.total("failed") == 1 and target.writes == 0  # parked until replay
    replayed = await runner.replay()
    assert replayed.total("created") == 1 and target.writes == 1
    assert await store.dead_letters(flow="test-flow") == []
    assert (await runner.replay()).total("created") == 0 and target.writes == 1


async def test_outage_halts_stream_and_keeps_cursor_behind(store: Store) -> None:
    """An outage stops the stream; the cursor stays before the record that did not land."""
    target = Target()
    runner = FlowRunner(make_flow(docs(1), target), store)
    await runner.cycle()
    source = docs(6)
    flow = make_flow(source, target)
    flow.streams[0].target.fail_next = [UnavailableError("M3 is down")]  # type: ignore[attr-defined]
    report = await FlowRunner(flow, store).cycle()
    assert not report.ok and "M3 is down" in (report.error or "")
    entry = await store.ledger_entry(RecordKey("test-flow", "docs", "2"))
    assert entry is not None and entry.state is State.PENDING
    cursor = await store.cursor("test-flow", "docs")
    assert cursor is not None and int(cursor) < 2
    recovered = await FlowRunner(flow, store).cycle()
    assert recovered.ok and len(target.rows) == 6


async def test_outage_after_a_partial_write_is_verified_not_repeated(store: Store) -> None:
    """A write that saved its record and then hit an outage (e.g. a release step) leaves the
    record pending; the next cycle finds the saved record instead of saving it again."""
    target = Target()
    target.store_then_outage = 1
    flow = make_flow(docs(3), target)
    first = await FlowRunner(flow, store).cycle()
    assert not first.ok and "outage" in (first.error or "")
    written_before = target.writes
    second = await FlowRunner(flow, store).cycle(full=True)
    assert second.ok and len(target.rows) == 3
    assert target.writes == 3 and written_before + second.total("created") == 3


async def test_posted_document_changed_at_source_goes_to_review_with_a_diff(store: Store) -> None:
    """Issue 12 item 10: an edit after posting is never "unchanged": it waits in review with
    the field diff, the target is not rewritten, and `review accept` records it as handled."""
    source, target = docs(3), Target()
    runner = FlowRunner(make_flow(source, target), store)
    await runner.cycle()
    source[2] = Doc(2, "INV-2", 999)
    report = await runner.cycle(full=True)
    assert report.total("changed") == 1 and report.total("unchanged") == 2
    assert report.attention and target.rows["INV-2"].amount == 102 and target.writes == 3
    [item] = await store.review_items(flow="test-flow")
    assert item.mapping_kind == "changed_after_posting" and "amount: 102 → 999" in item.reason
    again = await runner.cycle(full=True)
    assert again.total("changed") == 1 and len(await store.review_items(flow="test-flow")) == 1
    accepted = await runner.resume_review(accept_changes=True)
    assert accepted.total("updated") == 1 and await store.review_items(flow="test-flow") == []
    assert (await runner.cycle(full=True)).total("unchanged") == 3 and target.writes == 3


async def test_a_rebuilt_state_database_adopts_every_document(
    store: Store, state_url: str, tmp_path: Path
) -> None:
    """Issue 12 item 2: a fresh store over a target that has everything writes nothing."""
    source, target = docs(20), Target()
    await FlowRunner(make_flow(source, target), store).cycle()
    rebuilt = await (
        open_store(state_url, schema="rebuilt")
        if is_postgres(state_url)
        else open_store(tmp_path / "rebuilt.db")
    )
    try:
        await rebuilt.set_mappings("unit_cc", {"north": "CC100"})
        report = await FlowRunner(make_flow(source, target), rebuilt).cycle()
    finally:
        await rebuilt.close()
    assert report.ok and report.total("unchanged") == 20 and target.writes == 20


async def test_replay_after_a_refused_release_finishes_the_saved_document(store: Store) -> None:
    """Issue 12 item 3: saved, then the release refused (dead letter); replay releases the
    saved document instead of creating a second one."""
    source, target = docs(1), Target()
    target.release_refused = 1
    runner = FlowRunner(make_flow(source, target), store)
    assert (await runner.cycle()).total("failed") == 1 and "INV-1" in target.unreleased
    replayed = await runner.replay()
    assert replayed.total("updated") == 1 and target.writes == 1 and target.releases == 1
    assert target.unreleased == set()


async def test_in_doubt_write_found_unfinished_is_finished_not_marked_done(store: Store) -> None:
    """Issue 12 item 6: a lookup that finds the document saved but unreleased does not
    settle it; the document is released, once, and only then done."""

    class LostRelease(Target):
        async def write(
            self, command: Post, existing: Found | None, ctx: LoadContext
        ) -> Written:
            if existing is None:
                self.writes += 1
                self.rows[command.number] = command
                self.unreleased.add(command.number)
                raise InDoubtError("release reply lost", record=command.number)
            return await super().write(command, existing, ctx)

    target = LostRelease()
    report = await FlowRunner(make_flow(docs(2), target), store).cycle()
    assert report.ok and report.total("updated") == 2
    assert target.writes == 2 and target.releases == 2 and target.unreleased == set()


async def test_an_unexpected_exception_dead_letters_one_record_with_its_traceback(
    store: Store,
) -> None:
    """Issue 12 item 11: a bug in a target parks that record with the traceback in the dead
    letter; the other records land and the run finishes."""
    target = Target()
    target.fail_next = [KeyError("boom")]
    report = await FlowRunner(make_flow(docs(3), target), store).cycle()
    assert report.ok and report.total("failed") == 1 and report.total("created") == 2
    [letter] = await store.dead_letters(flow="test-flow")
    assert letter.error_kind == "unexpected" and "KeyError" in letter.reason
    row = await store.db.fetchone("SELECT traceback FROM dead_letters WHERE id = ?", (letter.id,))
    assert row is not None and "Traceback" in row[0] and "boom" in row[0]


async def test_a_claim_taken_by_another_writer_is_left_to_it(
    state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12 item 1: the ledger claim is compare-and-set; a record another live writer
    claims between our read of the ledger and our claim is left to it, not written twice."""
    store = await open_store(state_url, lock=False)  # one of two writers on this state
    await store.set_mappings("unit_cc", {"north": "CC100"})
    target = Target()
    db = store.db

    async def read_then_lose_the_race(guard: Guard) -> list[Any]:
        guard.rows = await db.fetchall(*guard.query())
        # The other process claims the record right after we read its row.
        key = RecordKey("test-flow", "docs", "1")
        await store.commit(
            Unit().claim(key, None, content_hash="theirs", run_id=None, owner="other")
        )
        await db.write(guard.unseen())
        return guard.rows

    monkeypatch.setattr(db, "write_unseen", read_then_lose_the_race)
    report = await FlowRunner(make_flow(docs(1), target), store).cycle()
    assert report.total("deferred") == 1 and target.writes == 0
    with pytest.raises(ClaimLostError):
        await store.commit(Unit().claim(RecordKey("test-flow", "docs", "1"), None,
                                        content_hash="again", run_id=None))
    await store.close()


# -- references: a document citing a record of another stream -------------------------------
class Bill(msgspec.Struct, frozen=True):
    id: int
    number: str
    #: Source id of the cited record of the ``docs`` stream (an account, say).
    account: int


class BillTarget:
    """Bills that cite a ``docs`` record, which must be in the docs target first.

    ``on_demand``: the bill makes its reference exist (``ctx.ensure``). Otherwise the bill
    checks the reference by a live lookup in the docs target, as a mapping-by-code check
    does, and asks ``ctx.settle`` whether a miss is only our unfinished write of it; a
    reference missing for good is a MappingError (review)."""

    def __init__(self, docs_target: Target, *, on_demand: bool) -> None:
        self.docs_target = docs_target
        self.on_demand = on_demand
        self.rows: dict[str, Bill] = {}

    async def find(self, command: Bill) -> Found | None:
        return Found(command.number) if command.number in self.rows else None

    async def write(self, command: Bill, existing: Found | None, ctx: LoadContext) -> Written:
        cited = str(command.account)
        if self.on_demand:
            await ctx.ensure("docs", cited)
        elif not await self._cited_is_there(cited, ctx):
            raise MappingError(
                f"bill {command.number}: account {cited} is not in the target",
                mapping_kind="account",
                mapping_key=cited,
            )
        self.rows[command.number] = command
        return Written(Outcome.CREATED, command.number)

    async def _cited_is_there(self, cited: str, ctx: LoadContext) -> bool:
        if f"INV-{cited}" in self.docs_target.rows:  # the live lookup
            return True
        return await ctx.settle("docs", cited) is not None


def flow_with_bills(
    source: dict[int, Doc], target: Target, bill_target: BillTarget, bills: dict[int, Bill]
) -> Flow:
    """The docs stream (the referenced records), then a bills stream citing them."""

    async def extract(cursor: str | None, full: bool) -> AsyncIterator[Envelope[Bill] | CursorMark]:
        for bill_id in sorted(bills):
            yield Envelope(str(bill_id), bills[bill_id])

    async def fetch(source_id: str) -> Bill | None:
        return bills.get(int(source_id))

    bill_stream: Stream[Bill, Bill] = Stream(
        name="bills",
        extract=extract,
        fetch=fetch,
        decode=lambda raw: msgspec.json.decode(raw, type=Bill),
        encode=msgspec.json.encode,
        map=lambda bill, ctx: bill,
        target=bill_target,
    )
    return Flow("test-flow", (make_flow(source, target).streams[0], bill_stream))


BILL_7 = {7: Bill(7, "B-7", 1)}


async def _state(store: Store, stream: str, source_id: str) -> State | None:
    entry = await store.ledger_entry(RecordKey("test-flow", stream, source_id))
    return None if entry is None else entry.state


@pytest.mark.parametrize("on_demand", [False, True], ids=["settle", "ensure"])
async def test_a_document_citing_a_record_in_doubt_waits_for_it_instead_of_parking(
    store: Store, monkeypatch: pytest.MonkeyPatch, on_demand: bool
) -> None:
    """A bill whose cited record is in doubt is deferred (pending, not in review or dead
    letters); once a later cycle settles that record by lookup, the bill is done."""
    monkeypatch.setattr(processor, "SETTLE_ATTEMPTS", 1)
    target = Target()
    lost = [InDoubtError("reply lost; the write did not land", record="INV-1") for _ in "ab"]
    # Lost twice: by the docs stream, and again when the bill has it settled.
    target.fail_next = lost
    bill_target = BillTarget(target, on_demand=on_demand)
    runner = FlowRunner(flow_with_bills(docs(1), target, bill_target, BILL_7), store)
    first = await runner.cycle()
    assert first.streams["docs"].as_dict().get("in_doubt") == 1
    assert first.streams["bills"].as_dict().get("deferred") == 1
    assert await _state(store, "bills", "7") is State.PENDING and bill_target.rows == {}
    assert await store.review_items(flow="test-flow") == []
    assert await store.dead_letters(flow="test-flow") == []
    [deferred] = [e for e in await store.audit_history("test-flow", "7") if e.step == "deferred"]
    assert "docs 1 is not finished yet" in (deferred.detail or "")
    second = await runner.cycle()
    assert second.ok and await _state(store, "bills", "7") is State.DONE
    assert list(bill_target.rows) == ["B-7"] and list(target.rows) == ["INV-1"]
    assert await _state(store, "docs", "1") is State.DONE and target.writes == 1


async def test_a_reference_never_written_here_still_goes_to_review(store: Store) -> None:
    """A bill citing a record the connector never began writing (its stream not run, or
    no such record) waits in review as a missing mapping; nothing is created on demand."""
    target = Target()
    bill_target = BillTarget(target, on_demand=False)
    bills = {7: Bill(7, "B-7", 1), 8: Bill(8, "B-8", 99)}
    runner = FlowRunner(flow_with_bills(docs(1), target, bill_target, bills), store)
    report = await runner.cycle(streams=["bills"])
    assert report.streams["bills"].as_dict().get("review") == 2
    assert sorted(i.mapping_key for i in await store.review_items(flow="test-flow")) == ["1", "99"]
    assert target.rows == {} and bill_target.rows == {}


async def test_an_outage_of_a_reference_written_on_demand_halts_the_stream_not_the_bill(
    store: Store,
) -> None:
    """An outage while a cited record is written on demand stops the bill's stream with the
    bill pending (no dead letter for a bug); the next cycle lands both, each once."""
    target = Target()
    target.find_fails = [UnavailableError("the docs target is down")]
    bill_target = BillTarget(target, on_demand=True)
    runner = FlowRunner(flow_with_bills(docs(1), target, bill_target, BILL_7), store)
    first = await runner.cycle(streams=["bills"])
    assert not first.ok and "the docs target is down" in (first.error or "")
    assert await _state(store, "bills", "7") is State.PENDING
    assert await store.dead_letters(flow="test-flow") == []
    second = await runner.cycle(streams=["bills"])
    assert second.ok and list(bill_target.rows) == ["B-7"] and target.writes == 1
