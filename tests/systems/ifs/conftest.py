"""Fixtures for the IFS client tests: a seeded simulator and connections to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from connector.config import IfsSystem
from connector.http.limiter import LimiterRegistry
from connector.http.retry import RetryPolicy
from connector.sandbox.ifs import IfsSimulator
from connector.systems.ifs import IfsConnection, open_connection
from connector.vault import Credential
from tests.conftest import StartSimulator

#: Short waits between retries, so throttling tests take a moment, not minutes.
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay_s=0.05, max_delay_s=0.4)
API = "/main/ifsapplications/projection/v1"


class Sandbox:
    """The simulator's admin API (``/_sandbox/``) and raw projection calls over loopback."""

    def __init__(self, sim: IfsSimulator, http: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.http = http

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(
            method, f"{self.sim.base_url}/_sandbox/{path}", json=body
        ) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def knobs(self, **knobs: Any) -> Any:
        return await self.admin("POST", "faults", knobs)

    async def records(self, entity_set: str) -> list[dict[str, Any]]:
        state = await self.admin("GET", "state")
        records: list[dict[str, Any]] = state["entities"][entity_set]
        return records

    async def other_user_patch(self, path: str, body: dict[str, Any]) -> None:
        """Someone else edits a row in IFS (read by key, PATCH with its ETag)."""
        creds = await self.admin("GET", "credentials")
        async with self.http.post(creds["token_url"], data={
                "grant_type": "client_credentials", "client_id": creds["client_id"],
                "client_secret": creds["client_secret"]}) as resp:
            token = (await resp.json())["access_token"]
        url = f"{self.sim.base_url}{API}/{path}"
        headers = {"Authorization": f"Bearer {token}"}
        async with self.http.get(url, headers=headers) as resp:
            etag = (await resp.json())["@odata.etag"]
        async with self.http.patch(url, json=body, headers=headers | {"If-Match": etag}) as resp:
            assert resp.status == 200, await resp.text()


@pytest.fixture
async def sandbox(start_simulator: StartSimulator) -> AsyncIterator[Sandbox]:
    """A started IFS simulator, seeded with seed 1."""
    sim = await start_simulator("ifs")
    assert isinstance(sim, IfsSimulator)
    async with aiohttp.ClientSession() as http:
        handle = Sandbox(sim, http)
        await handle.admin("POST", "seed", {"seed": 1})
        yield handle


@pytest.fixture
async def credential(sandbox: Sandbox) -> Credential:
    """The sandbox tenant's IAM client as the vault would hold it (URL and realm included)."""
    creds = await sandbox.admin("GET", "credentials")
    fields = {name: creds[name] for name in ("client_id", "client_secret", "url", "realm")}
    return Credential("ifs-test", "ifs", fields)


Connect = Callable[..., IfsConnection]


@pytest.fixture
async def connect(credential: Credential) -> AsyncIterator[Connect]:
    """Open connections to the sandbox (config fields as keyword overrides); all closed after."""
    opened: list[IfsConnection] = []

    def open_one(
        *, credential_: Credential = credential, limiters: LimiterRegistry | None = None,
        retry: RetryPolicy = FAST_RETRY, **config: Any,
    ) -> IfsConnection:
        settings = IfsSystem(credential=credential_.name, **({"company": "10"} | config))
        connection = open_connection(
            settings, credential_, limiters if limiters is not None else LimiterRegistry(),
            retry=retry)
        opened.append(connection)
        return connection

    yield open_one
    for connection in opened:
        await connection.aclose()


@pytest.fixture
async def ifs(connect: Connect) -> IfsConnection:
    """A connection with the default config, its credentials and company checked."""
    connection = connect()
    await connection.client.check()
    return connection
