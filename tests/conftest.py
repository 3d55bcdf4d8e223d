"""Shared fixtures: simulators on loopback ports, a fresh state database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from connector.sandbox import load_simulator
from connector.sandbox.base import Simulator

StartSimulator = Callable[[str], Awaitable[Simulator]]


@pytest.fixture
async def start_simulator() -> AsyncIterator[StartSimulator]:
    """Start any simulator by system name on a free loopback port; stopped after the test."""
    started: list[Simulator] = []

    async def start(name: str) -> Simulator:
        sim = load_simulator(name)()
        await sim.start("127.0.0.1", 0)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        await sim.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a state database that does not exist yet."""
    return tmp_path / "state.db"


#: The throwaway PostgreSQL cluster and the per-backend ``state_url`` fixture.
pytest_plugins = ["tests.pg"]
