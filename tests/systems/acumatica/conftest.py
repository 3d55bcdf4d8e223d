"""Fixtures for the Acumatica client tests: a seeded simulator and connections to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from connector.config import AcumaticaSystem
from connector.http.limiter import LimiterRegistry
from connector.http.retry import RetryPolicy
from connector.sandbox.base import Simulator
from connector.systems.acumatica import AcumaticaConnection, open_connection
from connector.vault import Credential
from tests.conftest import StartSimulator

#: Short waits between retries, so throttling tests take a moment, not minutes.
FAST_RETRY = RetryPolicy(max_attempts=12, base_delay_s=0.05, max_delay_s=0.4)


class Sandbox:
    """The simulator's admin API (``/_sandbox/``) over loopback HTTP."""

    def __init__(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.http = http

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(
            method, f"{self.sim.base_url}/_sandbox/{path}", json=body
        ) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def seed(self, seed: int = 1, **extra: Any) -> Any:
        return await self._call("POST", "seed", {"seed": seed, **extra})

    async def knobs(self, **knobs: Any) -> Any:
        return await self._call("POST", "faults", knobs)

    async def state(self) -> Any:
        return await self._call("GET", "state")

    async def credentials(self) -> dict[str, str]:
        body: dict[str, str] = await self._call("GET", "credentials")
        return body

    async def counters(self) -> dict[str, int]:
        state = await self.state()
        counters: dict[str, int] = state["counters"]
        return counters

    async def records(self, entity: str) -> list[dict[str, Any]]:
        state = await self.state()
        records: list[dict[str, Any]] = state["entities"][entity]
        return records


@pytest.fixture
async def sandbox(start_simulator: StartSimulator) -> AsyncIterator[Sandbox]:
    """A started Acumatica simulator, seeded with seed 1."""
    sim = await start_simulator("acumatica")
    async with aiohttp.ClientSession() as http:
        handle = Sandbox(sim, http)
        await handle.seed()
        yield handle


Connect = Callable[..., AcumaticaConnection]


@pytest.fixture
async def credential(sandbox: Sandbox) -> Credential:
    """The sandbox tenant's credential as the vault would hold it (instance URL included)."""
    creds = await sandbox.credentials()
    fields = {
        name: creds[name]
        for name in ("client_id", "client_secret", "username", "password", "instance_url")
    }
    return Credential("acumatica-test", "acumatica", fields | {"company": creds["company"]})


@pytest.fixture
async def connect(credential: Credential) -> AsyncIterator[Connect]:
    """Open connections to the sandbox (config fields as keyword overrides); all closed after."""
    opened: list[AcumaticaConnection] = []

    def open_one(
        *, limiters: LimiterRegistry | None = None, retry: RetryPolicy = FAST_RETRY, **config: Any
    ) -> AcumaticaConnection:
        settings = AcumaticaSystem(credential=credential.name, **config)
        connection = open_connection(
            settings,
            credential,
            limiters if limiters is not None else LimiterRegistry(),
            retry=retry,
        )
        opened.append(connection)
        return connection

    yield open_one
    for connection in opened:
        await connection.aclose()


@pytest.fixture
async def acumatica(connect: Connect) -> AcumaticaConnection:
    """A connection with the default config, its endpoint already checked."""
    connection = connect()
    await connection.client.check_endpoint()
    return connection
