"""Acumatica licence limits: throttled calls are absorbed, and our own limiter obeys config."""

from __future__ import annotations

import asyncio

from connector.http.limiter import LimiterRegistry
from connector.systems.acumatica import UNBUDGETED_REQUESTS_PER_MINUTE
from connector.systems.acumatica import models as m
from tests.systems.acumatica.conftest import Connect, Sandbox

VENDORS = [f"V{10001 + n}" for n in range(8)]


async def test_concurrency_429s_are_absorbed(sandbox: Sandbox, connect: Connect) -> None:
    """Over the licence's concurrent-request limit every call still succeeds after 429s."""
    await sandbox.knobs(max_concurrent=1, handler_delay_ms=40)
    connection = connect(max_concurrent=3)
    client = connection.client
    found = await asyncio.gather(*(client.get(m.Vendor, vendor_id) for vendor_id in VENDORS))
    assert [v.vendor_id if v else None for v in found] == VENDORS
    served = (await sandbox.counters())["served_429"]
    assert served > 0
    assert client.http.status_429_total == served
    assert connection.limiter.throttled_total == served


async def test_max_concurrent_in_config_keeps_calls_under_the_licence(
    sandbox: Sandbox, connect: Connect
) -> None:
    """With max_concurrent matching the licence, overlapping calls never see a 429."""
    await sandbox.knobs(max_concurrent=2, handler_delay_ms=30)
    connection = connect(max_concurrent=2)
    client = connection.client
    found = await asyncio.gather(*(client.get(m.Vendor, vendor_id) for vendor_id in VENDORS))
    assert all(vendor is not None for vendor in found)
    assert (await sandbox.counters())["served_429"] == 0


async def test_requests_per_minute_sizes_the_shared_limiter(
    sandbox: Sandbox, connect: Connect
) -> None:
    """The licence budget per instance is one limiter, shared by every connection to it."""
    limiters = LimiterRegistry()
    first = connect(limiters=limiters, requests_per_minute=120, max_concurrent=2)
    second = connect(limiters=limiters, requests_per_minute=120, max_concurrent=2)
    assert first.limiter is second.limiter
    assert (first.limiter.rate, first.limiter.period_s, first.limiter.max_concurrent) == (
        120,
        60.0,
        2,
    )
    unbudgeted = connect(requests_per_minute=0)
    assert unbudgeted.limiter.rate == UNBUDGETED_REQUESTS_PER_MINUTE
