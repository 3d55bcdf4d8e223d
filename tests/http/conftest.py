"""Fixtures for the HTTP kit: a tiny aiohttp.web server on loopback and a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from connector.http import make_session

Serve = Callable[..., Awaitable[URL]]
Handler = Callable[[web.Request], Awaitable[web.Response]]


class FakeTime:
    """A clock that only moves when someone sleeps on it; sleeps return at once.

    Concurrent sleepers each wake at their own target or later, as on a real clock, so a
    fake-time run is a valid (compressed) real-time run.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        target = self.now + seconds
        self.sleeps.append(seconds)
        await asyncio.sleep(0)
        self.now = max(self.now, target)


@pytest.fixture
def fake_time() -> FakeTime:
    """A fresh fake clock starting at t=1000."""
    return FakeTime()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an aiohttp.web app with the given routes on 127.0.0.1:0; returns its base URL."""
    runners: list[web.AppRunner] = []

    async def start(*routes: web.RouteDef) -> URL:
        app = web.Application()
        app.add_routes(routes)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return URL(f"http://127.0.0.1:{port}")

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A session as production makes it, with a generous timeout for ordinary answers."""
    async with make_session(timeout_s=10) as s:
        yield s


@pytest.fixture
async def short_session() -> AsyncIterator[aiohttp.ClientSession]:
    """A session that gives up on a silent server after 1 s, for timeout tests."""
    # Not less: the answers that do come must beat it on a machine busy with other tests.
    async with make_session(timeout_s=1.0, connect_timeout_s=1.0) as s:
        yield s
