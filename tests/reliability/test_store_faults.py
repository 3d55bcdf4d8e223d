"""Store faults: a full disk or a read-only database stops the connector cleanly, with no
cursor advanced, and it resumes once the cause is gone.

Root ignores file modes, so the faults are made inside SQLite, on the connector's own writer
connection and through its own commit path: ``PRAGMA max_page_count`` pinned to the current
size makes every growing write fail with "database or disk is full", and ``PRAGMA
query_only`` makes every write fail with "attempt to write a readonly database". Both strike
mid-cycle, half way through the job invoices (the AP bills are all posted by then). A full
disk is cured in place (the limit is lifted and the same process carries on, as when space
is freed); a read-only database is cured by restarting on a fresh connection (as after a
read-write remount).

The last test pins the subtle half of "no cursor advanced": a record whose final commit
fails must hold the cursor back even if the store recovers before the next record commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import msgspec
import pytest

from connector import demo
from connector.app import App
from connector.runtime.flow import (
    CursorMark,
    Envelope,
    Flow,
    Found,
    LoadContext,
    Outcome,
    Stream,
    Written,
)
from connector.runtime.runner import FlowRunner
from connector.store import RecordKey, State, Store, StoreError, Unit
from tests.reliability.conftest import ShowFigures
from tests.reliability.support import (
    FLOW,
    UNFINISHED,
    Figures,
    batches_by_cori,
    contractor,
    infor,
    overtaken,
    read_cursors,
    read_ledger,
    servicetitan,
    stamped_records,
    start_tenant,
    stray_batches,
    tally,
)

#: Job invoices M3 holds when the fault strikes: the AP bills stream (which runs first) is
#: finished, the invoices stream is half way.
STRIKE_AFTER_INVOICES = 12
MAX_CYCLES = 4

FAULTS = {
    "disk-full": "PRAGMA max_page_count = {pages}",
    "read-only": "PRAGMA query_only = ON",
}
#: What SQLite says in each case; the cycle's error must pass it on.
SQLITE_SAYS = {"disk-full": "database or disk is full", "read-only": "readonly database"}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_store_fault_stops_cleanly_without_moving_a_cursor_then_resumes(
    fault: str, tmp_path: Path, show_figures: ShowFigures
) -> None:
    """A database that stops taking writes mid-cycle ends the cycle with an error naming the
    state database, moves no cursor, and once cured the flow lands every document once."""
    env = await start_tenant(tmp_path / "state", contractor(24, 8))
    st, m3 = servicetitan(env), infor(env)
    db = env.state_dir / "connector.db"
    records = stamped_records(st)
    try:
        app = await App.open(env.config)
        try:
            struck: list[dict[str, str]] = []
            async with anyio.create_task_group() as tg:
                tg.start_soon(_strike, app, env, fault, struck)
                report = await (await app.runner(FLOW)).cycle()
            assert struck, "the cycle ended before the fault could strike"
            error = report.error or ""
            assert "state database" in error and SQLITE_SAYS[fault] in error, error
            assert read_cursors(db) == struck[0], "a cursor moved after the store failed"
            passed = overtaken(records.values(), read_cursors(db), read_ledger(db))
            assert passed == []
            if fault == "disk-full":
                await app.store.commit(Unit().raw("PRAGMA max_page_count = 1073741823", ()))
            else:
                await app.aclose()
                app = await App.open(env.config)
            cycles = await _cycle_until_settled(app)
        finally:
            await app.aclose()
        final = tally(records.values(), batches_by_cori(m3))
        strays = stray_batches(records, batches_by_cori(m3))
        unfinished = [k for k, row in read_ledger(db).items() if row.state in UNFINISHED]
    finally:
        await env.stop()
    show_figures(
        Figures(
            f"store {fault}",
            cycles + 1,
            len(records),
            len(final.lost),
            len(final.duplicated),
            0,
            f"struck after {STRIKE_AFTER_INVOICES} invoices; the cycle stopped with "
            f"{SQLITE_SAYS[fault]!r}, no cursor moved",
        )
    )
    assert final.lost == [] and final.duplicated == [] and final.garbled == []
    assert strays == 0 and unfinished == []


async def _strike(
    app: App, env: demo.DemoEnvironment, fault: str, struck: list[dict[str, str]]
) -> None:
    """Once M3 holds STRIKE_AFTER_INVOICES invoices, make the store refuse writes; record the
    cursors as they were at that moment."""
    m3 = infor(env)
    while (
        sum(b.status == "validated" and "invoice" in b.head["CORI"] for b in m3.db.batches.values())
        < STRIKE_AFTER_INVOICES
    ):
        await anyio.sleep(0.005)
    rows = await app.store.db.fetchall("PRAGMA page_count")
    try:
        await app.store.commit(Unit().raw(FAULTS[fault].format(pages=rows[0][0]), ()))
    except StoreError:
        pass  # the pragma took effect at once; a loader's write in its batch already failed
    struck.append(read_cursors(env.state_dir / "connector.db"))


async def _cycle_until_settled(app: App) -> int:
    runner = await app.runner(FLOW)
    for cycle in range(1, MAX_CYCLES + 1):
        report = await runner.cycle()
        left = await app.store.ledger_by_state(
            FLOW, [State.PENDING, State.IN_FLIGHT, State.IN_DOUBT]
        )
        if report.ok and not left:
            return cycle
    raise AssertionError(f"the flow did not settle in {MAX_CYCLES} cycles after the cure")


class Doc(msgspec.Struct, frozen=True):
    """A source document that is only its id."""

    id: int


class SlowSecond:
    """A target where document 2's write waits until document 1's final commit has failed,
    so document 2 commits after the store recovered."""

    def __init__(self, first_failed: anyio.Event) -> None:
        self.first_failed = first_failed
        self.rows: set[int] = set()

    async def find(self, command: Doc) -> Found | None:
        return Found(str(command.id), matches=True) if command.id in self.rows else None

    async def write(self, command: Doc, existing: Found | None, ctx: LoadContext) -> Written:
        if command.id == 2:
            await self.first_failed.wait()
        self.rows.add(command.id)
        return Written(Outcome.CREATED, str(command.id))


async def test_a_failed_commit_never_lets_a_later_record_carry_the_cursor_past_it(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When one record's final commit fails and the store recovers before the next record's
    commit, the cursor stays behind the record that did not commit."""
    store = await Store.open(db_path)
    first_failed = anyio.Event()

    async def extract(cursor: str | None, full: bool) -> AsyncIterator[Envelope[Doc] | CursorMark]:
        for doc_id in (1, 2):
            yield Envelope(str(doc_id), Doc(doc_id), cursor=str(doc_id))

    async def fetch(source_id: str) -> Doc | None:
        return Doc(int(source_id))

    stream: Stream[Doc, Doc] = Stream(
        name="docs",
        extract=extract,
        fetch=fetch,
        decode=lambda raw: msgspec.json.decode(raw, type=Doc),
        encode=msgspec.json.encode,
        map=lambda doc, ctx: doc,
        target=SlowSecond(first_failed),
        workers=2,
    )
    real_commit = store.commit

    async def commit(unit: Unit) -> None:
        done_first = any(
            "INTO ledger" in sql and params[2] == "1" and params[3] == State.DONE
            for sql, params in unit.statements
        )
        if done_first and not first_failed.is_set():
            first_failed.set()
            raise StoreError("the state database could not commit (database or disk is full)")
        await real_commit(unit)

    monkeypatch.setattr(store, "commit", commit)
    try:
        report = await FlowRunner(Flow("test-flow", (stream,)), store).cycle()
        first = await store.ledger_entry(RecordKey("test-flow", "docs", "1"))
        cursor = await store.cursor("test-flow", "docs")
    finally:
        await store.close()
    assert report.error is not None and "disk is full" in report.error
    assert first is not None and first.state == State.IN_FLIGHT
    assert cursor is None, f"the cursor moved to {cursor} past document 1, which never committed"
