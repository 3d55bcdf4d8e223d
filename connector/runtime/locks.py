"""Per-record locks: one record is never processed by two workers at once.

A webhook and a poll can deliver the same invoice at the same moment; the ledger check and
the write must not interleave for one key. Locks live only while someone holds or waits for
them, so memory stays flat however many records pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from connector.store import RecordKey


class KeyLocks:
    def __init__(self) -> None:
        self._locks: dict[RecordKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: RecordKey) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
