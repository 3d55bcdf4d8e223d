"""Per-record locks: one record is never processed by two workers at once.

A webhook and a poll can deliver the same invoice at the same moment; the ledger check and
the write must not interleave for one key. A key is held while it is in the table below,
with the futures of whoever waits for it; an uncontended hold is two dict operations (no
lock object per record), and memory stays flat however many records pass.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

from connector.store import RecordKey


class KeyLocks:
    def __init__(self) -> None:
        #: Held keys → futures of the holders-to-be waiting for them, first come first
        #: (None: held, nobody waiting; the queue is made only when someone must wait).
        self._held: dict[RecordKey, deque[asyncio.Future[None]] | None] = {}

    def hold(self, key: RecordKey) -> _Hold:
        """``async with locks.hold(key):`` — exclusive use of ``key`` inside the block."""
        return _Hold(self, [key])

    def hold_many(self, keys: list[RecordKey]) -> _Hold:
        """``async with locks.hold_many(keys):`` — exclusive use of every key in the block.

        Keys are taken in one global order, so two holders of overlapping sets never wait
        on each other in a circle."""
        return _Hold(self, sorted(set(keys)))

    async def _acquire(self, key: RecordKey) -> None:
        held = self._held
        if key not in held:
            held[key] = None
            return
        waiters = held[key]
        if waiters is None:
            waiters = held[key] = deque()
        waiter = asyncio.get_running_loop().create_future()
        waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._release(key)  # handed to us as we were cancelled: pass it on
            elif waiter in waiters:  # a release may already have dropped it
                waiters.remove(waiter)
            raise

    def _release(self, key: RecordKey) -> None:
        waiters = self._held[key]
        while waiters:  # None or empty: nobody waits
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the key passes to it, still held
                return
        del self._held[key]


class _Hold:
    """The context manager of one ``hold``/``hold_many`` (a class, not a generator: it runs
    per batch of records). Keys are released in reverse order of taking."""

    __slots__ = ("_locks", "_keys", "_taken")

    def __init__(self, locks: KeyLocks, keys: list[RecordKey]) -> None:
        self._locks = locks
        self._keys = keys
        self._taken = 0

    async def __aenter__(self) -> None:
        held = self._locks._held
        try:
            for key in self._keys:
                if key in held:
                    await self._locks._acquire(key)
                else:  # free: taken without a coroutine (most keys, most of the time)
                    held[key] = None
                self._taken += 1
        except BaseException:
            self._release()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()

    def _release(self) -> None:
        while self._taken:
            self._taken -= 1
            self._locks._release(self._keys[self._taken])
