"""IFS client budget: one limiter per environment and IAM client, sized from the config."""

from __future__ import annotations

from connector.http.limiter import LimiterRegistry
from tests.systems.ifs.conftest import Connect


async def test_connections_to_one_environment_share_one_limiter(connect: Connect) -> None:
    """Two flows on the same environment and IAM client draw from one request budget."""
    limiters = LimiterRegistry()
    first = connect(limiters=limiters, requests_per_minute=600)
    second = connect(limiters=limiters, requests_per_minute=600)
    assert first.limiter is second.limiter
    assert (first.limiter.rate, first.limiter.period_s) == (600, 60.0)


async def test_default_budget_is_1000_requests_per_minute(connect: Connect) -> None:
    """Without requests_per_minute in the config the budget is 1,000 per minute."""
    connection = connect()
    assert (connection.limiter.rate, connection.limiter.period_s) == (1000, 60.0)
    assert await connection.client.find_account("4000") is not None
    assert connection.limiter.acquired_total >= 1
