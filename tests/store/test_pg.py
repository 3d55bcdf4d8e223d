"""The PostgreSQL state: its lock, its tenants' schemas, its migrations and its claims."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import anyio
import psycopg
import pytest

from connector.errors import ConfigurationError
from connector.store import ClaimLostError, RecordKey, State, StoreError, Unit, open_store
from connector.store.lock import StateLockedError
from connector.store.pg import dollar_params, redact
from connector.store.schema import MIGRATIONS


async def test_second_writer_is_refused_naming_the_holder_pid(pg_url: str) -> None:
    """A second locked writer on one PostgreSQL state is refused naming the holder's pid;
    after the first closes, one opens; an unlocked writer (a node) opens beside it."""
    first = await open_store(pg_url)
    try:
        assert first.exclusive
        with pytest.raises(StateLockedError) as caught:
            await open_store(pg_url)
        assert isinstance(caught.value, ConfigurationError)
        message = str(caught.value)
        assert f"another ml-connector (pid {os.getpid()} on " in message
        assert "(schema public)" in message and "stop it, or let the running service" in message
        node = await open_store(pg_url, lock=False)
        assert not node.exclusive
        await node.close()
    finally:
        await first.close()
    again = await open_store(pg_url)
    await again.close()


async def test_tenants_in_schemas_are_apart_and_locked_apart(pg_url: str) -> None:
    """Two tenants' schemas in one database each take a writer and see only their own rows."""
    acme = await open_store(pg_url, schema="tenant_acme")
    globex = await open_store(pg_url, schema="tenant_globex")
    try:
        key = RecordKey("f", "s", "1")
        await acme.commit(Unit().ledger(key, State.DONE, target_id="A-1").cursor("f", "s", "9"))
        assert await globex.ledger_entry(key) is None and await globex.cursor("f", "s") is None
        assert (await acme.ledger_entry(key)) is not None
        with pytest.raises(StateLockedError, match="schema tenant_acme"):
            await open_store(pg_url, schema="tenant_acme")
    finally:
        await acme.close()
        await globex.close()


async def test_a_claim_raced_by_two_nodes_goes_to_exactly_one(pg_url: str) -> None:
    """Two writers claiming one record from the same ledger read: one claim lands, the
    other fails with ClaimLostError and changes nothing (compare-and-set)."""
    nodes = [await open_store(pg_url, lock=False) for _ in range(2)]
    try:
        key = RecordKey("f", "s", "7")
        await nodes[0].commit(Unit().ledger(key, State.PENDING))
        entry = await nodes[0].ledger_entry(key)
        assert entry is not None
        outcomes: list[str] = []

        async def claim(store_index: int) -> None:
            store = nodes[store_index]
            unit = Unit().claim(
                key, (entry.state, entry.attempts), content_hash="h", run_id=None,
                owner=store.writer_id,
            )
            try:
                await store.commit(unit.audit(key, "read"))
                outcomes.append("won")
            except ClaimLostError:
                outcomes.append("lost")

        async with anyio.create_task_group() as tg:
            tg.start_soon(claim, 0)
            tg.start_soon(claim, 1)
        assert sorted(outcomes) == ["lost", "won"]
        claimed = await nodes[1].ledger_entry(key)
        assert claimed is not None and claimed.state is State.IN_FLIGHT and claimed.attempts == 1
        assert [e.step for e in await nodes[1].audit_history("f", "7")] == ["read"]
    finally:
        for node in nodes:
            await node.close()


async def test_migrations_run_once_and_the_schemas_match_sqlite(
    pg_url: str, db_path: Path
) -> None:
    """Opening twice (even together) leaves the PostgreSQL schema at the number of
    migrations, with the same tables and columns as the SQLite state."""
    stores = []
    async with anyio.create_task_group() as tg:
        for _ in range(2):
            tg.start_soon(lambda: _open_into(stores, pg_url))
    for store in stores:
        await store.close()
    sqlite_store = await open_store(db_path)
    await sqlite_store.close()
    with sqlite3.connect(db_path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        expected = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    conn.close()
    with psycopg.connect(pg_url) as pg:
        version = pg.execute("SELECT version FROM public.schema_version").fetchall()
        rows = pg.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name <> 'schema_version' "
            "ORDER BY table_name, ordinal_position"
        ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    assert version == [(len(MIGRATIONS),)]
    assert found == expected


async def _open_into(stores: list[object], url: str) -> None:
    stores.append(await open_store(url, lock=False))


async def test_a_reader_is_refused_writes_and_an_unreachable_server_is_named(
    pg_url: str,
) -> None:
    """A PostgreSQL reader's writes fail with StoreError; a server that is down is named in
    the error without the password of its URL."""
    reader = await open_store(pg_url, writer=False)
    try:
        with pytest.raises(StoreError):
            await reader.commit(Unit().cursor("f", "s", "x"))
    finally:
        await reader.close()
    down = "postgresql://connector:s3cret@127.0.0.1:1/nowhere"
    with pytest.raises(StoreError) as caught:
        await open_store(down, lock=False)
    assert "127.0.0.1:1/nowhere" in str(caught.value) and "s3cret" not in str(caught.value)
    assert redact(down) == "postgresql://connector:***@127.0.0.1:1/nowhere"


def test_placeholders_become_numbered_outside_string_literals() -> None:
    """The store's ``?`` placeholders become ``$1…`` for PostgreSQL, but not inside quotes."""
    sql = "SELECT '?' FROM t WHERE a = ? AND b LIKE ? ESCAPE '\\' AND c IN (?, ?)"
    assert dollar_params(sql) == (
        "SELECT '?' FROM t WHERE a = $1 AND b LIKE $2 ESCAPE '\\' AND c IN ($3, $4)"
    )


async def test_a_tenant_schema_is_refused_for_a_sqlite_state(db_path: Path) -> None:
    """Asking for a tenant schema on a SQLite file says that tenants need PostgreSQL."""
    with pytest.raises(ValueError, match="need a PostgreSQL store"):
        await open_store(db_path, schema="tenant_acme")


async def test_a_dropped_connection_fails_one_batch_then_the_store_reconnects(
    pg_url: str,
) -> None:
    """When the server drops every connection (a restart), the batch in flight fails with
    StoreError (nothing half applied), later commits and reads work again, and the writer
    counts itself the only one again only once it has taken its advisory lock back (the
    lock went with its connection)."""
    store = await open_store(pg_url)
    try:
        assert store.exclusive
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        key = RecordKey("f", "s", "after-restart")
        with pytest.raises(StoreError, match="could not commit"):
            await store.commit(Unit().ledger(key, State.DONE))
        assert not store.exclusive
        await store.commit(Unit().ledger(key, State.DONE, target_id="T-9"))
        assert store.exclusive
        entry = None
        for _ in range(5):  # each pooled connection the server dropped fails one read
            try:
                entry = await store.ledger_entry(key)
                break
            except StoreError:
                continue
        assert entry is not None and entry.target_id == "T-9"
    finally:
        await store.close()
