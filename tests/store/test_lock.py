"""The process lock: one writer per state database, readers beside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connector.errors import ConfigurationError
from connector.store import Store, StoreError, Unit, open_store
from connector.store.lock import StateLockedError, lock_path


async def test_second_writer_is_refused_naming_the_holder_pid(db_path: Path) -> None:
    """A second writer is refused naming the holder's pid and the state; after close, one opens."""
    first = await Store.open(db_path)
    try:
        with pytest.raises(StateLockedError) as caught:
            await Store.open(db_path)
        assert isinstance(caught.value, ConfigurationError)
        message = str(caught.value)
        assert f"another ml-connector (pid {os.getpid()}) holds the state {db_path}" in message
        assert "stop it, or let the running service do this" in message
        assert lock_path(db_path).read_text().split()[0] == str(os.getpid())
    finally:
        await first.close()
    again = await Store.open(db_path)
    await again.close()


async def test_reader_opens_beside_a_writer_and_cannot_write(state_url: str) -> None:
    """A read-only store opens while a writer holds the lock, reads, and refuses writes."""
    writer = await open_store(state_url)
    try:
        run_id = await writer.start_run("f", "manual")
        reader = await open_store(state_url, writer=False)
        try:
            assert [r.id for r in await reader.runs()] == [run_id]
            with pytest.raises(StoreError):
                await reader.commit(Unit().cursor("f", "s", "x"))
        finally:
            await reader.close()
    finally:
        await writer.close()
