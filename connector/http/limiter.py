"""Client-side rate limiting: one budget per (system, credential, tenant), shared by all flows.

A :class:`RateLimiter` turns a vendor's published limit ("60 requests per second per app and
tenant", "300 per minute") into a guarantee about what *we* send. Every request enters
``async with limiter.slot():`` immediately before it is sent, and the slot is left once its
answer is read. A slot is granted in this order:

1. the concurrency semaphore, when ``max_concurrent`` is set (it bounds requests in flight);
2. the caller's turn: waiters line up first come, first served;
3. any shared pause (:meth:`RateLimiter.pause_for`) must be over;
4. the pacer and the sliding window must both have room (below).

The semaphore comes first so that a window place is always taken right before its request
leaves: a place held while queueing for the semaphore would be a request the window counted
but the server saw later, bunched up with newer ones.

**Pauses are shared.** After a 429 the client calls ``pause_for(retry_after)`` and *every*
caller of the same limiter holds back until that moment, not only the one that was refused:
the budget belongs to the tenant, so one caller's 429 is everybody's. A longer pause extends
the current one; a shorter one never shortens it.

**A sliding window, counted the way the server counts.** ServiceTitan (and the sandbox)
refuse a request when the requests that arrived in the last rolling ``period`` already reach
the limit. A token bucket cannot promise that cheaply: its burst plus its drip must fit
inside one window, so a 60/s bucket had to drip at 54/s. Instead we keep the start time of
every recent request and let a new one start only while fewer than ``capacity`` of them are
still *live*. ``capacity`` is the limit less ``spare`` (one request when the limit is 10 or
more per period): we never let the server's count reach its limit, so a single request
delayed past our margin cannot cause a refusal either.

How long a request stays live is where our clock and the server's differ. The server counts
it when it *arrives*, somewhere between our start and our reading of its answer; only the
spread of that delay matters (a constant delay shifts every request alike). A request stays
live for ``period`` after the later of two moments we can vouch for, whichever ends first:

* its answer was read at ``r``: it certainly arrived by ``r``, so from ``r + period`` on no
  request we start can share a server window with it — whatever the network did;
* it started at ``s``: assuming arrival delays differ by at most ``jitter_s`` (25 ms by
  default), it arrived by ``s + jitter_s`` relative to a request we start now.

On loopback or a fast link the first rule ends it ``period`` plus the round trip after its
start; on a slow link (ServiceTitan answers in a few hundred ms) the second, ``period +
jitter_s``. A request whose answer never came (timeout, cancel) may still arrive, so only
the second rule applies to it. For ServiceTitan that is 59 requests per 1.025 s at worst,
57.6 req/s, and close to 59 on a fast link; for 300 per minute, 299 per 60.025 s.

Live places are kept in start order and released from the oldest; a younger request whose
answer came back sooner waits behind an older one still in flight. That over-counts (never
under-counts) for at most one round trip, and keeps every step O(1).

**Paced, not bursty.** The window alone would let 59 requests out at once, and a burst is
what breaks the jitter assumption: the server queues it, and the last of the burst arrives
a queue's length after it started (80 ms seen against the sandbox on a busy machine), so a
request started ``period + jitter_s`` later can land in the same server second. Starts are
therefore also spaced at ``period / capacity`` (a GCRA pacer, the window's own rate) with a
burst of ``_BURST_SHARE`` of the capacity: the server sees an even stream, answers come back
fast, and the first rule is the one that releases places. The pacer keeps its ideal timeline
(a late wake-up is not carried into the next start), so it does not cost rate by itself.

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
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: How much the delay from our start to the server's count may differ between requests.
JITTER_S = 0.025
#: Share of the window's capacity that may start back to back after a quiet spell.
_BURST_SHARE = 0.05
#: From this limit per period on, one request is kept spare (below it, one is too big a share).
_SPARE_FROM = 10


class RateLimiter:
    """At most ``rate`` requests per rolling ``period_s`` seconds, plus shared pauses.

    ``name`` appears in logs and metrics. ``max_concurrent`` optionally bounds requests in
    flight. ``spare`` (requests kept below the limit in every window) and ``jitter_s`` (how
    far arrival delays may spread) are the safety margins the module docstring explains;
    the defaults suit every vendor here. ``clock`` and ``sleep`` time the window, the
    pauses and the wait statistics; tests pass fakes.
    """

    def __init__(
        self,
        rate: float,
        period_s: float,
        *,
        max_concurrent: int | None = None,
        name: str,
        spare: int | None = None,
        jitter_s: float = JITTER_S,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        if not (rate > 0 and period_s > 0 and math.isfinite(rate) and math.isfinite(period_s)):
            raise ValueError(f"limiter {name}: rate and period must be > 0, not {rate}/{period_s}")
        if max_concurrent is not None and max_concurrent < 1:
            raise ValueError(f"limiter {name}: max_concurrent must be >= 1, not {max_concurrent}")
        if not (jitter_s >= 0 and math.isfinite(jitter_s)):
            raise ValueError(f"limiter {name}: jitter_s must be a finite time >= 0, not {jitter_s}")
        # A fractional limit ("57.5 per second") admits its whole part in a window.
        limit = max(1, math.floor(rate))
        if spare is None:
            spare = 1 if limit >= _SPARE_FROM else 0
        if not 0 <= spare < limit:
            raise ValueError(f"limiter {name}: spare must be in [0, {limit}), not {spare}")
        self.name = name
        self.rate = rate
        self.period_s = period_s
        self.max_concurrent = max_concurrent
        #: Requests that may be live (started, not yet released) at once.
        self.capacity = limit - spare
        self.jitter_s = jitter_s
        #: The least steady rate, when every answer is slower than ``jitter_s``.
        self.steady_rate_per_s = self.capacity / (period_s + jitter_s)
        #: Requests that may start back to back (the pacer's burst).
        self.burst = max(1, round(self.capacity * _BURST_SHARE))
        self._interval = period_s / self.capacity
        # GCRA: the ideal start of the next request; one may start ``burst - 1`` intervals
        # ahead of it.
        self._next_start = -math.inf
        self._tolerance = (self.burst - 1) * self._interval
        # Release time of every live request, oldest start first (see the module docstring).
        self._live: deque[list[float]] = deque()
        self._turn = anyio.Lock()
        self._semaphore = anyio.Semaphore(max_concurrent) if max_concurrent else None
        self._clock = clock
        self._sleep = sleep
        self._paused_until = -math.inf
        #: Slots granted so far.
        self.acquired_total = 0
        #: Seconds callers spent waiting for a slot (pauses, window and semaphore together).
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

    def live(self) -> int:
        """Requests the window counts right now (started and not yet released)."""
        self._release_expired(self._clock())
        return len(self._live)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for permission to send one request; send it inside the ``async with`` block."""
        started = self._clock()
        async with AsyncExitStack() as stack:
            if self._semaphore is not None:
                await stack.enter_async_context(self._semaphore)
            place = await self._take_place()
            self.acquired_total += 1
            self.wait_seconds_total += max(0.0, self._clock() - started)
            yield
            # Only a read answer proves the request reached the server (not a timeout's
            # exception): from then on it needs ``period`` more, not ``period + jitter``.
            place[0] = min(place[0], self._clock() + self.period_s)

    async def _take_place(self) -> list[float]:
        # Pause, pacer, window: after any sleep all three are looked at again.
        # One waiter at a time watches the window (first come, first served), so a freed
        # place wakes one caller, not all of them.
        async with self._turn:
            while True:
                # A loop, because another caller's 429 may start or extend a pause while
                # we sleep on the window, and the window must be looked at after it.
                while (remaining := self.paused_for()) > 0:
                    await self._sleep(remaining)
                now = self._clock()
                if (early := self._next_start - self._tolerance - now) > 0:
                    await self._sleep(early)
                    continue
                self._release_expired(now)
                if len(self._live) < self.capacity:
                    self._next_start = max(self._next_start, now) + self._interval
                    place = [now + self.period_s + self.jitter_s]
                    self._live.append(place)
                    return place
                await self._sleep(self._live[0][0] - now)

    def _release_expired(self, now: float) -> None:
        live = self._live
        while live and live[0][0] <= now:
            live.popleft()


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
