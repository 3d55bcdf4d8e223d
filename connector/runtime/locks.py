"""Per-record locks: one record is never processed by two workers at once.

A webhook and a poll can deliver the same invoice at the same moment; the ledger check and
the write must not interleave for one key. Locks live only while someone holds or waits for
them, so memory stays flat however many records pass.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from connector.store import RecordKey


class KeyLocks:
    def __init__(self) -> None:
        self._locks: dict[RecordKey, tuple[asyncio.Lock, int]] = {}

    def hold(self, key: RecordKey) -> _Hold:
        """``async with locks.hold(key):`` — exclusive use of ``key`` inside the block."""
        return _Hold(self._locks, key)


class _Hold:
    """The context manager of one ``hold`` (a class, not a generator: it runs per record)."""

    __slots__ = ("_locks", "_key", "_lock")

    def __init__(self, locks: dict[RecordKey, tuple[asyncio.Lock, int]], key: RecordKey) -> None:
        self._locks = locks
        self._key = key

    async def __aenter__(self) -> None:
        lock, users = self._locks.get(self._key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[self._key] = (lock, users + 1)
        self._lock = lock
        try:
            await lock.acquire()
        except BaseException:
            self._leave()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.release()
        self._leave()

    def _leave(self) -> None:
        lock, users = self._locks[self._key]
        if users <= 1:
            del self._locks[self._key]
        else:
            self._locks[self._key] = (lock, users - 1)
