"""Fixtures for the ServiceTitan client and webhook tests: a seeded simulator, connections."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from connector.config import ServiceTitanSystem
from connector.http.limiter import LimiterRegistry
from connector.sandbox.base import Simulator
from connector.systems.servicetitan import ServiceTitanConnection, open_connection
from connector.vault import Credential
from tests.conftest import StartSimulator

#: A tenant small enough to seed in milliseconds, large enough that most lists span pages of
#: 37 rows (business units and tax zones stay on one page whatever the counts).
TENANT = {
    "business_units": 6,
    "tax_zones": 4,
    "gl_accounts": 40,
    "vendors": 80,
    "materials": 50,
    "equipment": 40,
    "services": 40,
    "customers": 60,
    "jobs": 120,
    "invoices": 120,
    "payments": 50,
    "purchase_orders": 50,
    "received_purchase_orders": 30,
    "adjustments": 25,
}


class Sandbox:
    """The simulator's admin API (``/_sandbox/``) over loopback HTTP."""

    def __init__(self, sim: Simulator, http: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.http = http

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(
            method, f"{self.sim.base_url}/_sandbox/{path}", json=body
        ) as response:
            assert response.status < 300, await response.text()
            return await response.json()

    async def seed(self, seed: int = 1, **counts: int) -> Any:
        return await self.admin("POST", "seed", {"seed": seed, "counts": TENANT | counts})

    async def knobs(self, **values: Any) -> Any:
        return await self.admin("POST", "faults", values)

    async def state(self) -> dict[str, Any]:
        state: dict[str, Any] = await self.admin("GET", "state")
        return state

    async def counters(self) -> dict[str, int]:
        counters: dict[str, int] = (await self.state())["counters"]
        return counters

    async def rows(self, entity: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (await self.state())["entities"][entity]
        return rows


@pytest.fixture
async def sandbox(start_simulator: StartSimulator) -> AsyncIterator[Sandbox]:
    """A started ServiceTitan simulator seeded with :data:`TENANT` (seed 1)."""
    sim = await start_simulator("servicetitan")
    async with aiohttp.ClientSession() as http:
        handle = Sandbox(sim, http)
        await handle.seed()
        yield handle


Connect = Callable[..., ServiceTitanConnection]


@pytest.fixture
async def connect(sandbox: Sandbox) -> AsyncIterator[Connect]:
    """Open connections to the sandbox (config fields as keyword overrides); closed after."""
    creds = await sandbox.admin("GET", "credentials")
    fields = {name: creds[name] for name in ("client_id", "client_secret", "app_key")}
    opened: list[ServiceTitanConnection] = []

    def open_one(*, secret: str | None = None, **config: Any) -> ServiceTitanConnection:
        settings = ServiceTitanSystem(
            credential="st",
            tenant=creds["tenant"],
            api_url=sandbox.sim.base_url,
            auth_url=sandbox.sim.base_url,
            **config,
        )
        credential = Credential(
            "st", "servicetitan", fields | ({"client_secret": secret} if secret else {})
        )
        connection = open_connection(settings, credential, LimiterRegistry())
        opened.append(connection)
        return connection

    yield open_one
    for connection in opened:
        await connection.aclose()


@pytest.fixture
async def st(connect: Connect) -> ServiceTitanConnection:
    """A connection reading 37 rows per page, so every list of any size spans pages."""
    return connect(page_size=37)
