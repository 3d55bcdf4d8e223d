"""Fixtures for the SYSPRO client tests: a simulator and connections opened on it.

Everything goes over real loopback HTTP: the client under test is built by
:func:`connector.systems.syspro.open_connection` from the simulator's own credentials, and the
tests look behind it only through the ``/_sandbox/`` admin API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from connector.config import SysproSystem
from connector.http.limiter import LimiterRegistry
from connector.sandbox.base import Simulator
from connector.systems.syspro import SysproConnection, open_connection
from connector.vault import Credential
from tests.conftest import StartSimulator

#: Far above anything the tests send, so the client's own limiter never slows them down.
FAST_REQUESTS_PER_SECOND = 10_000.0


class SysproSandbox:
    """One running SYSPRO simulator: admin calls and client connections."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession, creds: dict[str, Any]):
        self.sim = sim
        self.session = session
        self.creds = creds
        self.connections: list[SysproConnection] = []

    async def admin(self, method: str, name: str, body: Any = None) -> Any:
        url = f"{self.sim.base_url}/_sandbox/{name}"
        async with self.session.request(method, url, json=body) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def knobs(self, **values: Any) -> None:
        """Set simulator knobs and fault knobs (``POST /_sandbox/faults``)."""
        await self.admin("POST", "faults", values)

    async def rows(self, table: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (await self.admin("GET", "state"))["entities"][table]
        return rows

    async def open_sessions(self) -> int:
        sessions: int = (await self.admin("GET", "state"))["sessions"]
        return sessions

    def config(self, **overrides: Any) -> SysproSystem:
        values: dict[str, Any] = {
            "credential": "syspro",
            "enet_url": self.creds["enet_url"],
            "odata_url": self.creds["odata_url"],
            "requests_per_second": FAST_REQUESTS_PER_SECOND,
            "timeout_s": 5.0,
        }
        values.update(overrides)
        return SysproSystem(**values)

    def credential(self, **changes: str) -> Credential:
        fields = {
            "operator": self.creds["operator"],
            "operator_password": self.creds["operator_password"],
            "company": self.creds["company"],
        } | changes
        return Credential("syspro", "syspro", fields)

    def connect(
        self, credential: Credential | None = None, **overrides: Any
    ) -> SysproConnection:
        """A connection as the supervisor opens it (own limiter registry); closed at teardown."""
        connection = open_connection(
            self.config(**overrides), credential or self.credential(), LimiterRegistry()
        )
        self.connections.append(connection)
        return connection


@pytest.fixture
async def syspro(start_simulator: StartSimulator) -> AsyncIterator[SysproSandbox]:
    """A SYSPRO simulator with reference data (suppliers 0001/0002, GL codes, stock A100/B200)."""
    sim = await start_simulator("syspro")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sim.base_url}/_sandbox/credentials") as resp:
            sandbox = SysproSandbox(sim, session, await resp.json())
        try:
            yield sandbox
        finally:
            for connection in sandbox.connections:
                await connection.aclose()
