"""Fixtures for the ServiceNow client tests: a seeded simulator and connections to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from connector.config import ServiceNowSystem
from connector.http.limiter import LimiterRegistry
from connector.http.retry import RetryPolicy
from connector.sandbox.servicenow import ServiceNowSimulator
from connector.sandbox.servicenow.store import Instance
from connector.systems.servicenow import ServiceNowConnection, open_connection
from connector.vault import Credential
from tests.conftest import StartSimulator

#: Short waits between retries, so throttling tests take a moment, not minutes.
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay_s=0.05, max_delay_s=0.4)


class Sandbox:
    """The simulator's admin API (``/_sandbox/``) over loopback HTTP."""

    def __init__(self, sim: ServiceNowSimulator, http: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.http = http

    @property
    def instance(self) -> Instance:
        """The simulator's rows, for tests that change the instance behind the client."""
        return self.sim.instance

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(
            method, f"{self.sim.base_url}/_sandbox/{path}", json=body
        ) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def knobs(self, **knobs: Any) -> Any:
        return await self._call("POST", "faults", knobs)

    async def credentials(self) -> dict[str, str]:
        body: dict[str, str] = await self._call("GET", "credentials")
        return body

    async def state(self) -> Any:
        return await self._call("GET", "state")

    async def rows(self, table: str) -> list[dict[str, str]]:
        rows: list[dict[str, str]] = (await self.state())["entities"][table]
        return rows


@pytest.fixture
async def sandbox(start_simulator: StartSimulator) -> AsyncIterator[Sandbox]:
    """A started ServiceNow simulator, seeded with seed 1."""
    sim = await start_simulator("servicenow")
    assert isinstance(sim, ServiceNowSimulator)
    async with aiohttp.ClientSession() as http:
        handle = Sandbox(sim, http)
        await handle._call("POST", "seed", {"seed": 1})
        yield handle


Connect = Callable[..., ServiceNowConnection]


@pytest.fixture
async def credentials(sandbox: Sandbox) -> dict[str, Credential]:
    """The sandbox instance's credential of each kind, as the vault would hold them."""
    creds = await sandbox.credentials()
    url = {"instance_url": creds["instance_url"]}
    client = {"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    return {
        "oauth": Credential("sn-oauth", "servicenow-oauth", client | url),
        "refresh": Credential("sn-refresh", "servicenow-refresh-token",
                              client | url | {"refresh_token": creds["refresh_token"]}),
        "basic": Credential("sn-basic", "servicenow-basic", url | {
            "username": creds["username"], "password": creds["password"]}),
    }


@pytest.fixture
async def connect(credentials: dict[str, Credential]) -> AsyncIterator[Connect]:
    """Open connections (``kind`` picks the credential, config fields as keywords)."""
    opened: list[ServiceNowConnection] = []

    def open_one(*, kind: str = "oauth", limiters: LimiterRegistry | None = None,
                 retry: RetryPolicy = FAST_RETRY, **config: Any) -> ServiceNowConnection:
        credential = credentials[kind]
        settings = ServiceNowSystem(credential=credential.name, **config)
        connection = open_connection(settings, credential,
                                     limiters if limiters is not None else LimiterRegistry(),
                                     retry=retry)
        opened.append(connection)
        return connection

    yield open_one
    for connection in opened:
        await connection.aclose()


@pytest.fixture
async def servicenow(connect: Connect) -> ServiceNowConnection:
    """A connection with client credentials and the default config."""
    return connect()
