"""Client-side rate limiting: one budget per (system, credential, tenant), shared by all flows.

A :class:`RateLimiter` turns a vendor's published limit ("60 requests per second per app and
tenant", "300 per minute") into a guarantee about what *we* send. Every request enters
``async with limiter.slot():`` immediately before it is sent, and the slot is left once its
answer is read. A slot is granted in this order:

1. the concurrency semaphore, when ``max_concurrent`` is set (it bounds requests in flight);
2. any shared pause (:meth:`RateLimiter.pause_for`) must be over;
3. the leaky bucket (``aiolimiter.AsyncLimiter``) must have room; if a pause began while this
   caller waited for the bucket, it waits for the pause and draws from the bucket again.

The semaphore comes first so that a bucket token is always spent right before its request
leaves: a token held while queueing for the semaphore would let a backlog go out in a burst
the bucket never saw.

**Pauses are shared.** After a 429 the client calls ``pause_for(retry_after)`` and *every*
caller of the same limiter holds back until that moment, not only the one that was refused:
the budget belongs to the tenant, so one caller's 429 is everybody's. A longer pause extends
the current one; a shorter one never shortens it.

**Never over the limit in any rolling window.** ``aiolimiter``'s bucket lets its whole
capacity through at once and then drips at the steady rate, so ``AsyncLimiter(60, 1)`` can
send 120 requests inside one second. A strict server (ServiceTitan counts a rolling second)
answers the second half with 429s. We therefore size the bucket ourselves: with capacity
``B`` and drip rate ``r``, at most ``B + r * period`` requests fit in any window of
``period``. We aim that at ``headroom`` of the published rate. The margin is for network
jitter that bunches requests up on the way, and jitter is a matter of time, not of share:
we allow ``JITTER_S`` (50 ms), so the headroom is ``1 - JITTER_S / period`` — 95 % of a
one-second limit, 99.9 % of a per-minute one (where 5 % would waste 15 requests a minute
for jitter that costs a quarter of one). Requests sent at most ``B + r * period`` per
``period`` then arrive at most ``rate`` per ``period`` when each is delayed by up to
``JITTER_S``. The burst ``B`` is 5 % of that budget, at most one second of it, and at least
one request: it absorbs timer slack between drips, and whatever it takes comes out of the
steady rate. For ServiceTitan (60/s) that is a burst of 3 and a steady 54 req/s; for 60 per
1 s measured by a strict rolling-window server, a 3x burst sees no 429
(``tests/http/test_limiter.py``). For 300 per minute it is a burst of 5 and a steady 294.75
per minute.

:class:`LimiterRegistry` hands out one limiter per key, so two flows that use the same
ServiceTitan app key and tenant share one budget. Build the key from a fingerprint of the
credential (:func:`secret_fingerprint`), never from the secret itself: keys show up in
``/metrics``.

Statistics are plain attributes, read by ``/metrics``: ``acquired_total`` (slots granted),
``wait_seconds_total`` (time callers spent waiting for a slot) and ``throttled_total`` (pauses
requested, i.e. 429s and throttling 503s seen).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
from aiolimiter import AsyncLimiter

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: How far network jitter may shift a request between our clock and the server's window.
JITTER_S = 0.05
#: The least headroom for any period (a window shorter than 0.1 s is all jitter).
_MIN_HEADROOM = 0.5
#: Share of the aimed-at budget that may go out at once after a quiet spell…
_BURST_SHARE = 0.05
#: …but never more than this many seconds of it.
_MAX_BURST_S = 1.0


def default_headroom(period_s: float) -> float:
    """The share of a limit per ``period_s`` we aim at: all of it but ``JITTER_S`` of time."""
    return max(_MIN_HEADROOM, 1.0 - JITTER_S / period_s)


class RateLimiter:
    """At most ``rate`` requests per ``period_s`` seconds, plus shared pauses after a 429.

    ``name`` appears in logs and metrics. ``max_concurrent`` optionally bounds requests in
    flight. ``burst`` overrides the bucket capacity and ``headroom`` the share of ``rate``
    aimed at (see the module docstring for why neither is simply ``rate``). ``clock`` and
    ``sleep`` time the shared pauses and the wait statistics; tests pass fakes. The bucket
    itself runs on the event loop's clock.

    A limiter belongs to one event loop (``aiolimiter`` binds to the loop that first uses it).
    """

    def __init__(
        self,
        rate: float,
        period_s: float,
        *,
        max_concurrent: int | None = None,
        name: str,
        burst: float | None = None,
        headroom: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        if not (rate > 0 and period_s > 0 and math.isfinite(rate) and math.isfinite(period_s)):
            raise ValueError(f"limiter {name}: rate and period must be > 0, not {rate}/{period_s}")
        if headroom is None:
            headroom = default_headroom(period_s)
        if not 0 < headroom <= 1:
            raise ValueError(f"limiter {name}: headroom is a share in (0, 1], not {headroom}")
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError(f"limiter {name}: max_concurrent must be >= 1, not {max_concurrent}")
        self.name = name
        self.rate = rate
        self.period_s = period_s
        self.max_concurrent = max_concurrent
        budget = rate * headroom
        per_second = budget / period_s
        self.burst = (
            burst
            if burst is not None
            else max(1.0, min(budget * _BURST_SHARE, per_second * _MAX_BURST_S))
        )
        # At least half the budget drips, so tiny rates (1 per minute) still make progress.
        drip_per_period = max(budget - self.burst, budget / 2)
        #: Steady requests per second once the burst is spent.
        self.steady_rate_per_s = drip_per_period / period_s
        self._bucket = AsyncLimiter(self.burst, self.burst / self.steady_rate_per_s)
        self._semaphore = anyio.Semaphore(max_concurrent) if max_concurrent else None
        self._clock = clock
        self._sleep = sleep
        self._paused_until = -math.inf
        #: Slots granted so far.
        self.acquired_total = 0
        #: Seconds callers spent waiting for a slot (pauses, bucket and semaphore together).
        self.wait_seconds_total = 0.0
        #: Pauses requested through :meth:`pause_for` (429s and throttling 503s seen).
        self.throttled_total = 0

    def __repr__(self) -> str:
        return f"RateLimiter(name={self.name!r}, rate={self.rate}, period_s={self.period_s})"

    def pause_for(self, seconds: float) -> None:
        """Hold back every caller of this limiter for ``seconds`` from now.

        Extends a pause already running if it ends later; never shortens one.
        """
        self.throttled_total += 1
        if not math.isfinite(seconds) or seconds <= 0:
            return
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def paused_for(self) -> float:
        """Seconds left in the current shared pause (0 when there is none)."""
        return max(0.0, self._paused_until - self._clock())

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for permission to send one request; send it inside the ``async with`` block."""
        started = self._clock()
        async with AsyncExitStack() as stack:
            if self._semaphore is not None:
                await stack.enter_async_context(self._semaphore)
            await self._wait_for_pause()
            await self._bucket.acquire()
            while self.paused_for() > 0:
                # The pause began while we queued for the bucket: that token was drawn before
                # the server's refusal, so wait out the pause and draw a fresh one.
                await self._wait_for_pause()
                await self._bucket.acquire()
            self.acquired_total += 1
            self.wait_seconds_total += max(0.0, self._clock() - started)
            yield

    async def _wait_for_pause(self) -> None:
        # A loop, because another caller's 429 may extend the pause while we sleep.
        while (remaining := self.paused_for()) > 0:
            await self._sleep(remaining)


class LimiterRegistry:
    """One :class:`RateLimiter` per key for the whole process.

    Keys are strings the caller builds, e.g. ``f"servicetitan:{fingerprint}:{tenant}"``;
    never put a raw secret in one (see :func:`secret_fingerprint`).
    """

    def __init__(self) -> None:
        self._limiters: dict[str, RateLimiter] = {}

    def get(self, key: str, factory: Callable[[], RateLimiter]) -> RateLimiter:
        """The limiter for ``key``, made by ``factory`` the first time the key is asked for."""
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = factory()
        return limiter

    def items(self) -> Iterator[tuple[str, RateLimiter]]:
        """Every (key, limiter) pair, for ``/metrics``."""
        return iter(list(self._limiters.items()))

    def __len__(self) -> int:
        return len(self._limiters)


def secret_fingerprint(secret: str) -> str:
    """A short, stable, non-reversible name for a credential, fit for keys and logs."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]
