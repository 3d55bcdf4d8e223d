"""Fixtures for the M3 client tests: a seeded Infor simulator and connections opened on it.

Everything goes over real loopback HTTP: the client under test is built by
:func:`connector.systems.infor.open_connection` from the simulator's own ``.ionapi`` file,
and the tests look behind it only through the ``/_sandbox/`` admin API.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from connector.config import InforSystem
from connector.http.limiter import LimiterRegistry
from connector.sandbox.base import Simulator
from connector.systems.infor import InforConnection, open_connection
from connector.vault import Credential
from tests.conftest import StartSimulator

COMPANY = "100"
DIVISION = "AAA"
#: Far above anything the tests send, so the client's own limiter never slows them down.
FAST_REQUESTS_PER_MINUTE = 60_000


class InforSandbox:
    """One running Infor simulator: admin calls, raw gateway calls and client connections."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession, ionapi_text: str) -> None:
        self.sim = sim
        self.session = session
        self.ionapi_text = ionapi_text
        self.ionapi: dict[str, str] = json.loads(ionapi_text)
        self.connections: list[InforConnection] = []

    @property
    def api(self) -> str:
        """Base of single MI calls on the gateway."""
        return f"{self.ionapi['iu']}/{self.ionapi['ti']}/M3/m3api-rest/v2/execute"

    async def admin(self, method: str, name: str, body: Any = None) -> Any:
        url = f"{self.sim.base_url}/_sandbox/{name}"
        async with self.session.request(method, url, json=body) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def knobs(self, **values: Any) -> None:
        """Set simulator knobs and fault knobs (``POST /_sandbox/faults``)."""
        await self.admin("POST", "faults", values)

    async def state(self) -> dict[str, Any]:
        state: dict[str, Any] = await self.admin("GET", "state")
        return state

    async def entities(self, name: str, company: str = COMPANY) -> list[dict[str, Any]]:
        """One entity list of ``/_sandbox/state``, only the rows of ``company``."""
        rows: list[dict[str, Any]] = (await self.state())["entities"][name]
        return [row for row in rows if row.get("CONO") == company]

    async def raw_status(self, call: str, token: str) -> int:
        """HTTP status of a bare gateway GET with ``token`` as the bearer (no client code)."""
        headers = {"Authorization": f"Bearer {token}"}
        async with self.session.get(f"{self.api}/{call}", headers=headers) as resp:
            return resp.status

    def config(self, **overrides: Any) -> InforSystem:
        """Company 100 / division AAA, a client budget the tests never reach, and ``overrides``."""
        values: dict[str, Any] = {
            "credential": "infor",
            "company": COMPANY,
            "division": DIVISION,
            "requests_per_minute": FAST_REQUESTS_PER_MINUTE,
        }
        values.update(overrides)
        return InforSystem(**values)

    def credential(self, **ionapi_changes: str) -> Credential:
        """The simulator's ``.ionapi`` as a vault credential, with ``ionapi_changes`` applied."""
        document = dict(self.ionapi, **ionapi_changes)
        return Credential("infor", "ionapi", {"ionapi": json.dumps(document)})

    def connect(self, credential: Credential | None = None, **overrides: Any) -> InforConnection:
        """A connection as the supervisor opens it (own limiter registry); closed at teardown."""
        connection = open_connection(
            self.config(**overrides), credential or self.credential(), LimiterRegistry()
        )
        self.connections.append(connection)
        return connection


@pytest.fixture
async def infor(start_simulator: StartSimulator) -> AsyncIterator[InforSandbox]:
    """An Infor simulator seeded with ``{"seed": 1}`` (company 100: 200 suppliers, 300 items)."""
    sim = await start_simulator("infor")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sim.base_url}/_sandbox/credentials") as resp:
            sandbox = InforSandbox(sim, session, await resp.text())
        await sandbox.admin("POST", "seed", {"seed": 1})
        try:
            yield sandbox
        finally:
            for connection in sandbox.connections:
                if not connection.session.closed:
                    await connection.aclose()
