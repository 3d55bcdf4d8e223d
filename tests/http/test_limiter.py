"""The rate limiter: sliding windows as a strict server counts them, shared pauses, registry."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import time

import aiohttp
import anyio
from aiohttp import web

from connector.http import LimiterRegistry, RateLimiter, secret_fingerprint
from connector.http.limiter import JITTER_S
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


def test_window_sizing_keeps_one_request_spare_and_reaches_57_per_second() -> None:
    """ServiceTitan's 60/s admits 59 per window, at least 57.5 req/s even on a slow link."""
    servicetitan = RateLimiter(60, 1.0, name="st")
    assert servicetitan.capacity == 59
    assert 57.5 <= servicetitan.steady_rate_per_s < 59
    assert RateLimiter(300, 60.0, name="m3").capacity == 299
    assert RateLimiter(5, 1.0, name="auth").capacity == 5
    assert RateLimiter(1, 60.0, name="tiny").capacity == 1


async def test_answered_requests_free_their_place_one_period_after_the_answer(
    fake_time: FakeTime,
) -> None:
    """3 start at once, the next 56 paced 1/59 s apart; the 60th waits for the first answer."""
    limiter = RateLimiter(60, 1.0, name="st", clock=fake_time, sleep=fake_time.sleep)
    entered: list[float] = []
    for _ in range(61):
        async with limiter.slot():
            entered.append(fake_time())
    assert entered[:3] == [1000.0] * 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(entered[2:59])]
    assert all(abs(gap - 1 / 59) < 1e-9 for gap in gaps)
    assert entered[59] == entered[60] == 1001.0
    assert limiter.live() == 58  # 56 of the first second still live, plus the two new


async def test_unanswered_request_holds_its_place_for_period_plus_jitter(
    fake_time: FakeTime,
) -> None:
    """A request that never got its answer may still arrive late: its place is kept longer."""
    limiter = RateLimiter(1, 1.0, name="one", clock=fake_time, sleep=fake_time.sleep)
    with contextlib.suppress(TimeoutError):
        async with limiter.slot():
            raise TimeoutError
    async with limiter.slot():
        entered = fake_time()
    assert entered == 1000.0 + 1.0 + JITTER_S


async def test_many_callers_never_reach_the_limit_in_any_rolling_second(
    fake_time: FakeTime,
) -> None:
    """16 callers, 600 requests: no rolling second holds 60 starts, and 59 start per second."""
    limiter = RateLimiter(60, 1.0, name="st", clock=fake_time, sleep=fake_time.sleep)
    starts: list[float] = []

    async def caller() -> None:
        while len(starts) < 600:
            async with limiter.slot():
                starts.append(fake_time())

    async with anyio.create_task_group() as tg:
        for _ in range(16):
            tg.start_soon(caller)
    busiest = max(bisect.bisect_left(starts, t + 1.0) - i for i, t in enumerate(starts))
    assert busiest == 59
    assert len(starts) / (starts[-1] - starts[0]) >= 57


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


async def test_pause_that_begins_during_the_window_wait_is_honoured(fake_time: FakeTime) -> None:
    """A caller waiting for a place in the window when a pause starts waits for it first."""
    paused = False

    async def sleep_during_which_a_429_arrives(seconds: float) -> None:
        nonlocal paused
        if not paused:
            paused = True
            limiter.pause_for(7)
        await fake_time.sleep(seconds)

    limiter = RateLimiter(1, 1, name="p", clock=fake_time, sleep=sleep_during_which_a_429_arrives)
    entered: list[float] = []
    for _ in range(2):
        async with limiter.slot():
            entered.append(fake_time())
    assert paused
    assert entered == [1000.0, 1007.0]


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
