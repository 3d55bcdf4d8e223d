"""SystemSupervisor: crashed children restart with backoff; configuration errors stop."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from connector.errors import ConfigurationError, UnavailableError
from connector.http.limiter import RateLimiter
from connector.http.tokens import Token, TokenCache
from connector.runtime.supervisor import SystemSupervisor


@dataclass
class FakeConnection:
    tokens: TokenCache = field(
        default_factory=lambda: TokenCache(_never, refresh_margin_s=0, name="fake")
    )
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(10, 1, name="fake"))
    closed: bool = False

    async def aclose(self) -> None:
        self.closed = True


async def _never(previous: Token | None) -> Token:
    raise AssertionError("no token is fetched in these tests")


async def test_a_crashed_child_is_restarted_until_it_finishes() -> None:
    """Two outages, then success: the child runs three times and the restarts are counted."""
    supervisor = SystemSupervisor("m3", "infor", FakeConnection(), initial_backoff_s=0.01)
    runs: list[int] = []

    async def child() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise UnavailableError("M3 is down")

    await supervisor.supervise("poller", child)
    assert len(runs) == 3 and supervisor.health.restarts == 2
    assert supervisor.health.last_error == "M3 is down"


async def test_a_configuration_error_is_not_restarted() -> None:
    """A wrong company cannot fix itself: the error surfaces after one run."""
    supervisor = SystemSupervisor("m3", "infor", FakeConnection(), initial_backoff_s=0.01)
    runs: list[int] = []

    async def child() -> None:
        runs.append(1)
        raise ConfigurationError("company 300 is not authorized")

    with pytest.raises(ConfigurationError):
        await supervisor.supervise("poller", child)
    assert len(runs) == 1 and supervisor.health.restarts == 0
    status = supervisor.status()
    assert status["last_error"] == "company 300 is not authorized" and status["kind"] == "infor"


async def test_any_exception_restarts_the_child_not_only_connector_errors() -> None:
    """A bug (KeyError) in a loop is logged and the loop restarted, like an outage."""
    supervisor = SystemSupervisor("m3", "infor", FakeConnection(), initial_backoff_s=0.01)
    runs: list[int] = []

    async def child() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise KeyError("a bug")

    await supervisor.supervise("poller", child)
    assert len(runs) == 2 and supervisor.health.restarts == 1


async def test_serve_owns_every_loop_and_reports_one_stopped_by_configuration() -> None:
    """serve runs each loop in the supervisor's own task group; a loop stopped by a
    configuration error is reported and the others still finish."""
    supervisor = SystemSupervisor("m3", "infor", FakeConnection(), initial_backoff_s=0.01)
    finished: list[str] = []
    stopped: list[str] = []

    async def good() -> None:
        finished.append("good")

    async def wrong() -> None:
        raise ConfigurationError("company 300 is not authorized")

    await supervisor.serve(
        [("flow/schedule", good), ("flow/webhooks", wrong)],
        lambda name, exc: stopped.append(name),
    )
    assert finished == ["good"] and stopped == ["flow/webhooks"]



@dataclass
class TokenlessConnection:
    """A system that logs on per cycle instead of holding a token (SYSPRO e.net)."""

    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(10, 1, name="syspro"))

    async def aclose(self) -> None:
        return None


def test_status_of_a_system_without_tokens_says_so() -> None:
    """/healthz of a system with no token cache reports token state 'none', not a crash."""
    supervisor = SystemSupervisor("syspro", "syspro", TokenlessConnection())
    status = supervisor.status()
    assert status["token"] == {"state": "none", "seconds_left": None}
    assert status["kind"] == "syspro"
