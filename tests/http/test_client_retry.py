"""HttpClient retries: throttles, shared pauses, timeouts, lost connections, retry budgets."""

from __future__ import annotations

import asyncio
import random
import socket

import aiohttp
import anyio
import pytest
from aiohttp import web

from connector.errors import InDoubtError, RateLimitedError, TimeoutError_, UnavailableError
from connector.http import HttpClient, RateLimiter, RetryPolicy

from .conftest import FakeTime, Handler, Serve


def make_client(
    session: aiohttp.ClientSession,
    clock: FakeTime,
    *,
    policy: RetryPolicy | None = None,
    max_concurrent: int | None = None,
) -> HttpClient:
    limiter = RateLimiter(
        1000, 1, name="test", max_concurrent=max_concurrent, clock=clock, sleep=clock.sleep
    )
    return HttpClient(
        "acme",
        session,
        limiter=limiter,
        tokens=None,
        auth_headers=None,
        retry=policy or RetryPolicy(),
        rng=random.Random(3),
        sleep=clock.sleep,
    )


def scripted(statuses: list[int], seen: list[str], retry_after: str | None = None) -> Handler:
    """A handler answering the listed statuses in turn, then 200; it logs each method."""

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.method)
        status = statuses.pop(0) if statuses else 200
        headers = {"Retry-After": retry_after} if retry_after and status != 200 else {}
        return web.json_response({"status": status}, status=status, headers=headers)

    return handler


def hanger(seen: list[str], hangs: int) -> Handler:
    """A handler that answers nothing (until shutdown) to the first `hangs` requests, then 200."""

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.method)
        if len(seen) <= hangs:
            await asyncio.sleep(30)
        return web.Response(text="ok")

    return handler


async def test_429_with_retry_after_waits_then_succeeds(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 429 with Retry-After: 2 is retried after 2 s (fake clock) and the retry succeeds."""
    arrivals: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        arrivals.append(fake_time())
        if len(arrivals) == 1:
            return web.Response(status=429, headers={"Retry-After": "2"})
        return web.Response(text="ok")

    base = await serve(web.get("/jobs", handler))
    client = make_client(session, fake_time)
    response = await client.request("GET", base / "jobs", idempotent=True)
    assert response.status == 200
    assert arrivals[1] - arrivals[0] >= 2
    assert (client.status_429_total, client.retries_total, client.requests_total) == (1, 1, 2)


async def test_429_pause_is_shared_by_concurrent_callers(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """One caller's 429 (Retry-After: 1) holds back the others: none is sent during the pause."""
    statuses_seen: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        if not statuses_seen:
            statuses_seen.append(429)
            return web.Response(status=429, headers={"Retry-After": "1"})
        statuses_seen.append(200)
        return web.Response(text="ok")

    # The pause lasts until the test opens the gate, however long the real requests take.
    pause_over = anyio.Event()
    paused_callers = 0

    async def sleep_until_the_gate_opens(seconds: float) -> None:
        nonlocal paused_callers
        paused_callers += 1
        await pause_over.wait()
        await fake_time.sleep(seconds)

    base = await serve(web.get("/jobs", handler))
    limiter = RateLimiter(
        1000, 1, name="st", max_concurrent=2, clock=fake_time, sleep=sleep_until_the_gate_opens
    )
    client = HttpClient(
        "servicetitan",
        session,
        limiter=limiter,
        tokens=None,
        auth_headers=None,
        rng=random.Random(0),
        sleep=fake_time.sleep,
    )
    finished = 0

    async def caller() -> None:
        nonlocal finished
        assert (await client.request("GET", base / "jobs", idempotent=True)).status == 200
        finished += 1

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(caller)
        with anyio.fail_after(5):
            while not paused_callers and finished < 5:
                await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)  # room for any caller that wrongly ignores the pause
        sent_during_pause = list(statuses_seen)
        pause_over.set()
    # The refused request, plus at most the one already in flight beside it.
    assert sent_during_pause.count(429) == 1
    assert len(sent_during_pause) <= 2
    assert finished == 5
    assert sorted(statuses_seen) == [200] * 5 + [429]
    assert limiter.throttled_total == 1


async def test_429_on_a_write_is_retried(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 429 means the write was not processed, so even a POST is sent again."""
    seen: list[str] = []
    base = await serve(web.post("/bills", scripted([429], seen, retry_after="1")))
    response = await make_client(session, fake_time).request(
        "POST", base / "bills", json=b"{}", idempotent=False
    )
    assert response.status == 200
    assert seen == ["POST", "POST"]


async def test_503_with_retry_after_pauses_the_limiter_like_a_throttle(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 503 carrying Retry-After is a throttle: the shared pause is used, then it succeeds."""
    seen: list[str] = []
    base = await serve(web.get("/m3", scripted([503], seen, retry_after="4")))
    client = make_client(session, fake_time)
    start = fake_time()
    assert (await client.request("GET", base / "m3", idempotent=True)).status == 200
    assert client._limiter.throttled_total == 1
    assert fake_time() - start >= 4


async def test_retry_after_past_the_budget_gives_up_at_once(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A Retry-After longer than max_total_wait_s raises RateLimitedError without waiting."""
    seen: list[str] = []
    base = await serve(web.get("/jobs", scripted([429], seen, retry_after="600")))
    client = make_client(session, fake_time, policy=RetryPolicy(max_total_wait_s=60))
    with pytest.raises(RateLimitedError) as caught:
        await client.request("GET", base / "jobs", idempotent=True)
    assert caught.value.retry_after == 600
    assert "gave up after 1 attempt" in str(caught.value)
    assert seen == ["GET"]
    assert fake_time.sleeps == []
    assert client._limiter.paused_for() == 600


async def test_total_wait_stays_within_max_total_wait(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """Against a server that is always down, the waits add up to at most max_total_wait_s."""
    seen: list[str] = []
    base = await serve(web.get("/jobs", scripted([503] * 100, seen)))
    policy = RetryPolicy(max_attempts=100, base_delay_s=1, max_delay_s=4, max_total_wait_s=10)
    client = make_client(session, fake_time, policy=policy)
    with pytest.raises(UnavailableError, match="retry budget"):
        await client.request("GET", base / "jobs", idempotent=True)
    assert sum(fake_time.sleeps) <= 10
    assert len(seen) == len(fake_time.sleeps) + 1


async def test_max_attempts_bounds_the_requests_sent(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A server answering 503 forever to a read sees exactly max_attempts requests."""
    seen: list[str] = []
    base = await serve(web.get("/bills", scripted([503] * 100, seen)))
    client = make_client(session, fake_time, policy=RetryPolicy(max_attempts=4))
    with pytest.raises(UnavailableError) as caught:
        await client.request("GET", base / "bills", idempotent=True)
    assert seen == ["GET"] * 4
    assert "GET /bills" in str(caught.value)
    assert "gave up after 4 attempt(s)" in str(caught.value)
    assert client.retries_total == 3


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_gateway_error_on_a_write_is_in_doubt(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime, status: int
) -> None:
    """A 502/504 after a POST may hide a commit upstream: InDoubtError, no second POST."""
    seen: list[str] = []
    base = await serve(web.post("/AddHead", scripted([status], seen)))
    with pytest.raises(InDoubtError, match="natural key"):
        await make_client(session, fake_time).request(
            "POST", base / "AddHead", json=b"{}", idempotent=False
        )
    assert seen == ["POST"]


async def test_gateway_error_on_a_read_is_retried(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A 504 on a GET is retried and the retry's answer returned."""
    seen: list[str] = []
    base = await serve(web.get("/items", scripted([504, 502], seen)))
    response = await make_client(session, fake_time).request("GET", base / "items", idempotent=True)
    assert response.status == 200
    assert seen == ["GET"] * 3


async def test_timeout_on_a_read_is_retried(
    serve: Serve, short_session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A GET whose answer never comes times out and is retried; the retry succeeds."""
    seen: list[str] = []
    base = await serve(web.get("/jobs", hanger(seen, hangs=1)))
    client = make_client(short_session, fake_time)
    response = await client.request("GET", base / "jobs", idempotent=True)
    assert response.status == 200
    assert seen == ["GET", "GET"]


async def test_timeout_on_a_write_is_in_doubt_and_sent_once(
    serve: Serve, short_session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A POST that times out raises InDoubtError at once; the server saw exactly one POST."""
    seen: list[str] = []
    base = await serve(web.post("/invoices", hanger(seen, hangs=1)))
    with pytest.raises(InDoubtError) as caught:
        await make_client(short_session, fake_time).request(
            "POST", base / "invoices", json=b'{"n": 1}', idempotent=False, record="invoice 7"
        )
    assert seen == ["POST"]
    assert "POST /invoices" in str(caught.value) and "invoice 7" in str(caught.value)
    assert "may have been applied" in str(caught.value)


async def test_timeout_on_a_read_gives_up_as_timeout_error(
    serve: Serve, short_session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A GET that never gets an answer ends in TimeoutError_ after max_attempts."""
    seen: list[str] = []
    base = await serve(web.get("/jobs", hanger(seen, hangs=99)))
    client = make_client(short_session, fake_time, policy=RetryPolicy(max_attempts=2))
    with pytest.raises(TimeoutError_, match="no answer in time"):
        await client.request("GET", base / "jobs", idempotent=True)
    assert seen == ["GET", "GET"]


def dropper(seen: list[str], drops: int) -> Handler:
    """A handler that drops the connection without an answer for the first `drops` requests."""

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.method)
        if len(seen) <= drops and request.transport is not None:
            request.transport.abort()
        return web.Response(text="ok")

    return handler


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_connection_lost_after_a_write_is_in_doubt_and_never_resent(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime, method: str
) -> None:
    """A write whose connection drops before the answer is InDoubt; nothing resends it,
    not even aiohttp's own retry of PUT/DELETE on a dropped kept-alive connection."""
    seen: list[str] = []
    base = await serve(web.route(method, "/records", dropper(seen, drops=5)))
    with pytest.raises(InDoubtError, match="connection lost"):
        await make_client(session, fake_time).request(
            method, base / "records", json=b"{}", idempotent=False
        )
    assert seen == [method]


async def test_connection_lost_on_a_read_is_retried(
    serve: Serve, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """A GET whose connection drops is sent again and the second answer returned."""
    seen: list[str] = []
    base = await serve(web.get("/records", dropper(seen, drops=1)))
    client = make_client(session, fake_time)
    assert (await client.request("GET", base / "records", idempotent=True)).status == 200
    assert seen == ["GET", "GET"]


async def test_connection_refused_is_retried_even_for_a_write(
    session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    """Nothing was sent when the connection is refused, so a POST is retried too."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(session, fake_time, policy=RetryPolicy(max_attempts=3))
    with pytest.raises(UnavailableError, match="nothing was sent") as caught:
        await client.request("POST", f"http://127.0.0.1:{port}/bills", json=b"{}", idempotent=False)
    assert client.requests_total == 3
    assert "gave up after 3 attempt(s)" in str(caught.value)
