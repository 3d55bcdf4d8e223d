"""The state store: atomic units, group commit, ledger, cursors, inbox dedupe, migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio

from connector.store import (
    ClaimLostError,
    RecordKey,
    State,
    Store,
    StoreError,
    Unit,
    open_store,
)
from connector.store.schema import MIGRATIONS


async def test_unit_commits_ledger_audit_and_cursor_together(state_url: str) -> None:
    """A unit's ledger state, audit event and cursor are all visible after commit."""
    store = await open_store(state_url)
    key = RecordKey("f", "invoices", "42")
    await store.commit(
        Unit()
        .ledger(key, State.DONE, content_hash="h1", target_id="T1", run_id=1)
        .audit(key, "written", {"target_id": "T1"}, run_id=1)
        .cursor("f", "invoices", "2026-01-01T00:00:00Z")
    )
    entry = await store.ledger_entry(key)
    assert entry is not None and entry.state is State.DONE and entry.target_id == "T1"
    assert [e.step for e in await store.audit_history("f", "42")] == ["written"]
    assert await store.cursor("f", "invoices") == "2026-01-01T00:00:00Z"
    await store.close()


async def test_failed_unit_applies_nothing_and_others_commit(state_url: str) -> None:
    """A unit violating a constraint fails alone; concurrent units in its batch still land."""
    store = await open_store(state_url)
    good = RecordKey("f", "s", "good")
    bad = Unit().ledger(RecordKey("f", "s", "bad"), State.DONE).raw(
        "INSERT INTO mappings (kind, source_key, target_value, updated_at) "
        "VALUES (NULL, 'k', 'v', 0)",
        (),
    )
    results: dict[str, object] = {}

    async def commit(name: str, unit: Unit) -> None:
        try:
            await store.commit(unit)
            results[name] = "ok"
        except StoreError as exc:
            results[name] = exc

    async with anyio.create_task_group() as tg:
        tg.start_soon(commit, "bad", bad)
        tg.start_soon(commit, "good", Unit().ledger(good, State.DONE))
    assert results["good"] == "ok"
    assert isinstance(results["bad"], StoreError)
    assert await store.ledger_entry(RecordKey("f", "s", "bad")) is None
    assert await store.ledger_entry(good) is not None
    await store.close()


async def test_a_lost_claim_fails_alone_and_its_batch_lands_once(state_url: str) -> None:
    """A claim whose ledger row changed since it was read fails with ClaimLostError and
    applies nothing, while the units committed beside it land, each audit event once."""
    store = await open_store(state_url)
    stale, fresh = RecordKey("f", "s", "stale"), RecordKey("f", "s", "fresh")
    await store.commit(Unit().ledger(stale, State.PENDING).ledger(fresh, State.PENDING))
    await store.commit(Unit().ledger(stale, State.DONE))  # another writer finished it
    results: dict[str, object] = {}

    async def claim(key: RecordKey) -> None:
        unit = Unit().claim(key, (State.PENDING, 0), content_hash="h", run_id=None)
        try:
            await store.commit(unit.audit(key, "read"))
            results[key.source_id] = "ok"
        except StoreError as exc:
            results[key.source_id] = exc

    async with anyio.create_task_group() as tg:
        tg.start_soon(claim, stale)
        tg.start_soon(claim, fresh)
        tg.start_soon(store.commit, Unit().audit(RecordKey("f", "s", "other"), "noted"))
    assert isinstance(results["stale"], ClaimLostError)
    assert results["fresh"] == "ok"
    after = await store.ledger_entry(stale)
    assert after is not None and after.state is State.DONE and after.attempts == 0
    claimed = await store.ledger_entry(fresh)
    assert claimed is not None and claimed.state is State.IN_FLIGHT and claimed.attempts == 1
    assert await store.audit_history("f", "stale") == []
    assert [e.step for e in await store.audit_history("f", "fresh")] == ["read"]
    assert [e.step for e in await store.audit_history("f", "other")] == ["noted"]
    await store.close()


async def test_a_failing_read_fails_alone_among_reads_sent_with_it(state_url: str) -> None:
    """A read the database refuses raises StoreError for its caller only: reads issued in
    the same moment, before and after it, still get their rows."""
    store = await open_store(state_url)
    key = RecordKey("f", "s", "1")
    await store.commit(Unit().ledger(key, State.DONE, target_id="T-1"))
    results: dict[int, object] = {}

    async def read(index: int, sql: str) -> None:
        try:
            results[index] = [tuple(row) for row in await store.db.fetchall(sql)]
        except StoreError as exc:
            results[index] = exc

    async with anyio.create_task_group() as tg:
        tg.start_soon(read, 0, "SELECT target_id FROM ledger")
        tg.start_soon(read, 1, "SELECT no_such_column FROM ledger")
        tg.start_soon(read, 2, "SELECT source_id FROM ledger")
        tg.start_soon(read, 3, "SELECT state FROM ledger")
    assert results[0] == [("T-1",)] and results[2] == [("1",)] and results[3] == [("done",)]
    assert isinstance(results[1], StoreError) and "no_such_column" in str(results[1])
    await store.close()


async def test_concurrent_units_share_commits(state_url: str) -> None:
    """Many concurrent writers are group-committed: fewer transactions than units."""
    store = await open_store(state_url)
    async with anyio.create_task_group() as tg:
        for i in range(200):
            tg.start_soon(store.commit, Unit().ledger(RecordKey("f", "s", str(i)), State.DONE))
    assert store.db.units_total == 200
    assert store.db.commits_total < 200
    counts = await store.ledger_counts("f")
    assert counts[("f", "s", "done")] == 200
    await store.close()


async def test_ledger_attempts_accumulate_and_fields_persist(state_url: str) -> None:
    """Attempts count up and a later state keeps the earlier hash and target id."""
    store = await open_store(state_url)
    key = RecordKey("f", "s", "1")
    await store.commit(Unit().ledger(key, State.IN_FLIGHT, content_hash="h", count_attempt=True))
    await store.commit(Unit().ledger(key, State.IN_DOUBT, count_attempt=True, error="timeout"))
    entry = await store.ledger_entry(key)
    assert entry is not None
    assert (entry.state, entry.attempts, entry.content_hash, entry.last_error) == (
        State.IN_DOUBT, 2, "h", "timeout"
    )
    await store.close()


async def test_inbox_dedupes_concurrent_deliveries(state_url: str) -> None:
    """The same event id delivered three times at once is stored once."""
    store = await open_store(state_url)
    stored: list[bool] = []

    async def put() -> None:
        stored.append(await store.put_inbox_event("evt-1", "f", "invoice.updated", b"{}"))

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(put)
    assert sorted(stored) == [False, False, True]
    assert len(await store.pending_inbox("f")) == 1
    await store.close()


async def test_dead_letter_and_review_round_trip(state_url: str) -> None:
    """Dead letters and review items keep the payload and reason, and close on success."""
    store = await open_store(state_url)
    key = RecordKey("f", "bills", "7")
    await store.commit(Unit().dead_letter(key, b'{"id":7}', "rejected", "vendor unknown"))
    await store.commit(Unit().dead_letter(key, b'{"id":7}', "rejected", "vendor unknown"))
    await store.commit(Unit().review(key, b'{"id":7}', "business_unit_cost_center", "12", "no CC"))
    [letter] = await store.dead_letters(flow="f")
    assert (letter.attempts, letter.reason, letter.payload) == (2, "vendor unknown", b'{"id":7}')
    [item] = await store.review_items(flow="f")
    assert (item.mapping_kind, item.mapping_key) == ("business_unit_cost_center", "12")
    await store.commit(Unit().close_dead_letter(key).close_review(key))
    assert await store.dead_letters(flow="f") == []
    assert await store.review_items(flow="f") == []
    await store.close()


async def test_runs_record_counts_and_status(state_url: str) -> None:
    """A run row carries its status and per-stream counts."""
    store = await open_store(state_url)
    run_id = await store.start_run("f", "manual")
    await store.finish_run(run_id, "ok", {"invoices": {"created": 3}})
    [run] = await store.runs(flow="f")
    assert (run.id, run.status, run.counts) == (run_id, "ok", {"invoices": {"created": 3}})
    await store.close()


async def test_migrations_are_numbered_and_pragmas_applied(db_path: Path) -> None:
    """Opening sets WAL and the schema version to the number of migrations."""
    store = await Store.open(db_path)
    await store.close()
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()

