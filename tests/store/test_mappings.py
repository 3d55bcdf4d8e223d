"""Stored mappings: the config's replaced on load, `review resolve` answers kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from connector.store import MappingOverride, Store, open_store
from connector.store.schema import MIGRATIONS, _statements


async def test_load_replaces_config_rows_and_keeps_cli_ones(state_url: str) -> None:
    """A load drops stale config rows, keeps CLI answers, and reports a shared key it overrode."""
    store = await open_store(state_url)
    try:
        assert await store.load_config_mappings({"cc": {"1": "A", "2": "B"}}) == []
        await store.set_mappings("cc", {"3": "C", "4": "D"}, origin="cli")
        overridden = await store.load_config_mappings({"cc": {"1": "A", "4": "E"}})
        assert overridden == [MappingOverride("cc", "4", config_value="E", cli_value="D")]
        rows = {(r.key, r.value, r.origin) for r in await store.mapping_rows()}
        assert rows == {("1", "A", "config"), ("3", "C", "cli"), ("4", "E", "config")}
        assert (await store.all_mappings())["cc"] == {"1": "A", "3": "C", "4": "E"}
    finally:
        await store.close()


async def test_mappings_from_before_origins_are_kept_as_answers(db_path: Path) -> None:
    """Rows from before the origin column are kept as CLI answers, never dropped by a load."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    for statement in _statements(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO mappings (kind, source_key, target_value, updated_at) "
        "VALUES ('cc', '9', 'Z', 0)"
    )
    conn.close()
    store = await Store.open(db_path)
    try:
        await store.load_config_mappings({"cc": {"1": "A"}})
        rows = {(r.key, r.value, r.origin) for r in await store.mapping_rows()}
        assert rows == {("1", "A", "config"), ("9", "Z", "cli")}
    finally:
        await store.close()
