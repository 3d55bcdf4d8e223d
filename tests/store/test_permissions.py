"""The state database is owner-only: it holds document payloads and the vault."""

from __future__ import annotations

import stat
from pathlib import Path

from connector.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_state_is_created_0600_in_a_0700_directory(tmp_path: Path) -> None:
    """Opening a state that does not exist makes its directory 0700 and its files 0600."""
    db = tmp_path / "fresh" / "connector.db"
    store = await Store.open(db)
    try:
        await store.set_mappings("gl_account", {"1": "2"})
        assert mode(db.parent) == 0o700
        for path in db.parent.glob("connector.db*"):
            assert mode(path) == 0o600, path
    finally:
        await store.close()


async def test_a_readable_state_file_is_tightened_to_0600(tmp_path: Path) -> None:
    """A database file others could read (copied in with 0644) is made 0600 on open."""
    db = tmp_path / "connector.db"
    db.touch(mode=0o644)
    db.chmod(0o644)
    store = await Store.open(db, writer=False)
    await store.close()
    assert mode(db) == 0o600
