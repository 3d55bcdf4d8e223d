"""The rate limiter: strict rolling windows, shared pauses, concurrency, registry."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import anyio
from aiohttp import web

from connector.http import LimiterRegistry, RateLimiter, secret_fingerprint
from connector.sandbox.base import SlidingWindow

from .conftest import FakeTime, Serve


async def _burst_against_strict_server(
    serve: Serve, session: aiohttp.ClientSession, limiter: RateLimiter, n: int, period: float
) -> int:
    """Send 3n requests through `limiter` to a server allowing n per rolling `period`."""
    window = SlidingWindow(period)
    refused = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal refused
        now = time.monotonic()
        if window.count(now) >= n:
            refused += 1
            return web.Response(status=429)
        window.add(now)
        return web.Response(text="ok")

    base = await serve(web.get("/r", handler))

    async def one() -> None:
        async with limiter.slot():
            async with session.get(base / "r") as response:
                await response.read()

    async with anyio.create_task_group() as tg:
        for _ in range(3 * n):
            tg.start_soon(one)
    return refused


async def test_servicetitan_budget_never_trips_a_rolling_window(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    """A burst of 3x60 requests at 60 per 1 s gets no 429 from a strict rolling-window server."""
    limiter = RateLimiter(60, 1.0, name="servicetitan:test")
    refused = await _burst_against_strict_server(serve, session, limiter, 60, 1.0)
    assert refused == 0
    assert limiter.acquired_total == 180


async def test_full_capacity_bucket_would_trip_the_same_server(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    """Control: aiolimiter sized naively (burst = rate, no headroom) does get 429s."""
    limiter = RateLimiter(20, 0.25, name="naive", burst=20, headroom=1.0)
    refused = await _burst_against_strict_server(serve, session, limiter, 20, 0.25)
    assert refused > 0


def test_bucket_sizing_leaves_headroom_within_one_window() -> None:
    """Burst plus one period of drip stays at or under 95 % of the published rate."""
    for rate, period in [(60, 1.0), (300, 60.0), (1, 60.0), (2, 1.0)]:
        limiter = RateLimiter(rate, period, name="sizing")
        in_one_window = limiter.burst + limiter.steady_rate_per_s * period
        assert int(in_one_window) <= rate
        assert limiter.steady_rate_per_s > 0
    servicetitan = RateLimiter(60, 1.0, name="st")
    assert servicetitan.burst + servicetitan.steady_rate_per_s <= 57 + 1e-9


async def test_pause_holds_back_every_caller(fake_time: FakeTime) -> None:
    """After pause_for, all callers enter their slot only once the pause is over."""
    limiter = RateLimiter(1000, 1, name="p", clock=fake_time, sleep=fake_time.sleep)
    limiter.pause_for(5)
    entered: list[float] = []

    async def caller() -> None:
        async with limiter.slot():
            entered.append(fake_time())

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(caller)
    assert len(entered) == 4
    assert min(entered) >= 1005
    assert limiter.throttled_total == 1
    assert limiter.wait_seconds_total >= 5


async def test_longer_pause_extends_and_shorter_never_shortens(fake_time: FakeTime) -> None:
    """pause_for keeps the latest end it was given."""
    limiter = RateLimiter(10, 1, name="p", clock=fake_time, sleep=fake_time.sleep)
    limiter.pause_for(10)
    limiter.pause_for(2)
    assert limiter.paused_for() == 10
    limiter.pause_for(30)
    assert limiter.paused_for() == 30
    limiter.pause_for(0)
    assert limiter.paused_for() == 30
    assert limiter.throttled_total == 4


async def test_pause_extended_while_waiting_is_waited_out(fake_time: FakeTime) -> None:
    """A caller asleep on a pause that another caller's 429 extends waits until the new end."""
    extended = False

    async def sleep_during_which_another_429_arrives(seconds: float) -> None:
        nonlocal extended
        if not extended:
            extended = True
            limiter.pause_for(50)
        await fake_time.sleep(seconds)

    limiter = RateLimiter(
        1000, 1, name="p", clock=fake_time, sleep=sleep_during_which_another_429_arrives
    )
    limiter.pause_for(1)
    async with limiter.slot():
        entered = fake_time()
    assert extended
    assert entered >= 1050


async def test_pause_that_begins_during_the_bucket_wait_is_honoured(fake_time: FakeTime) -> None:
    """A caller queued on the bucket when a pause starts waits for it before sending."""
    limiter = RateLimiter(
        10, 1, name="p", burst=1, headroom=1.0, clock=fake_time, sleep=fake_time.sleep
    )
    entered: list[float] = []

    async def caller() -> None:
        async with limiter.slot():
            entered.append(fake_time())

    async with anyio.create_task_group() as tg:
        tg.start_soon(caller)
        tg.start_soon(caller)
        await asyncio.sleep(0.01)  # first caller took the only token, second waits ~0.1 s
        assert len(entered) == 1
        limiter.pause_for(7)
    assert len(entered) == 2
    assert entered[1] >= 1007


async def test_max_concurrent_bounds_requests_in_flight() -> None:
    """With max_concurrent=3, never more than three callers are inside a slot at once."""
    limiter = RateLimiter(1000, 1, name="c", max_concurrent=3)
    inside = 0
    peak = 0

    async def caller() -> None:
        nonlocal inside, peak
        async with limiter.slot():
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.005)
            inside -= 1

    async with anyio.create_task_group() as tg:
        for _ in range(12):
            tg.start_soon(caller)
    assert peak == 3
    assert limiter.acquired_total == 12


def test_registry_shares_one_limiter_per_key() -> None:
    """Two flows asking for the same key get the same limiter; the factory runs once."""
    registry = LimiterRegistry()
    made: list[str] = []

    def factory() -> RateLimiter:
        made.append("x")
        return RateLimiter(60, 1, name="servicetitan")

    key = f"servicetitan:{secret_fingerprint('app-key-secret')}:1234"
    first = registry.get(key, factory)
    second = registry.get(key, factory)
    other = registry.get("servicetitan:other:1234", factory)
    assert first is second
    assert other is not first
    assert len(made) == 2
    assert dict(registry.items()) == {key: first, "servicetitan:other:1234": other}


def test_secret_fingerprint_is_stable_and_hides_the_secret() -> None:
    """The fingerprint is deterministic, short, and does not contain the secret."""
    fingerprint = secret_fingerprint("s3cr3t-app-key")
    assert fingerprint == secret_fingerprint("s3cr3t-app-key")
    assert fingerprint != secret_fingerprint("another-key")
    assert "s3cr3t" not in fingerprint and len(fingerprint) == 12
