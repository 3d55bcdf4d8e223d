"""Coalescing: concurrent one-record calls answered by one call for many.

The processor takes each record through its own ``find`` and ``write``, so a target whose API
can read or write many records in one request (ServiceTitan's ``ids=`` filter, an
``invoices/markasexported`` array) would still spend a request per record. A
:class:`Coalescer` gathers the calls that loader workers make at about the same time — up to
``size`` of them, waiting at most ``window_s`` for company — and makes one call for the lot.

Each caller still gets its own answer or exception, so the exactly-once protocol is
unchanged: a ``find`` is as live as before (the request is made after the caller asked), and a
batched write whose answer is lost raises ``InDoubtError`` in every caller, each then settled
by its own lookup. Only calls that are safe to make for several records at once belong here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio

from connector.errors import InDoubtError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Waiter(Generic[K, V]):
    key: K
    done: anyio.Event = field(default_factory=anyio.Event)
    result: V | None = None
    error: BaseException | None = None


@dataclass
class _Batch(Generic[K, V]):
    waiters: list[_Waiter[K, V]] = field(default_factory=list)
    full: anyio.Event = field(default_factory=anyio.Event)


class Coalescer(Generic[K, V]):
    """``await coalescer(key)``: the value ``call`` returns for ``key`` (None if it has none).

    ``call(keys)`` answers a mapping of key → value for up to ``size`` distinct keys. The
    first caller of a batch makes the call once the batch is full or ``window_s`` has passed;
    the others wait for it.
    """

    def __init__(
        self,
        call: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]],
        *,
        size: int,
        window_s: float = 0.02,
    ) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, not {size}")
        self.call = call
        self.size = size
        self.window_s = window_s
        self._open: _Batch[K, V] | None = None
        #: Calls made so far (for tests and benchmarks).
        self.calls = 0

    async def __call__(self, key: K) -> V | None:
        batch, leader = self._open, False
        if batch is None or len(batch.waiters) >= self.size:
            batch, leader = _Batch(), True
            self._open = batch
        waiter: _Waiter[K, V] = _Waiter(key)
        batch.waiters.append(waiter)
        if len(batch.waiters) >= self.size:
            batch.full.set()
        if leader:
            await self._lead(batch)
        else:
            await waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    async def _lead(self, batch: _Batch[K, V]) -> None:
        try:
            with anyio.move_on_after(self.window_s):
                await batch.full.wait()
            if self._open is batch:
                self._open = None
            keys = list(dict.fromkeys(w.key for w in batch.waiters))
            self.calls += 1
            results = await self.call(keys)
            for waiter in batch.waiters:
                waiter.result = results.get(waiter.key)
        except BaseException as exc:
            for waiter in batch.waiters:
                # The leader was cancelled: the call may or may not have been made, so every
                # other caller's record is in doubt and is settled by its own lookup.
                waiter.error = (
                    exc
                    if isinstance(exc, Exception)
                    else InDoubtError(
                        f"the batched call for {waiter.key} was cancelled before it answered; "
                        "the record is looked up before anything is sent again",
                    )
                )
            raise
        finally:
            if self._open is batch:
                self._open = None
            for waiter in batch.waiters:
                waiter.done.set()
