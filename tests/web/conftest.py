"""The service with its console, on a tiny contractor whose cost centers M3 refuses."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process

from connector import demo
from connector.vault import open_vault
from tests.commands.support import (
    admin_port_free,
    break_cost_centers,
    tiny_contractor,
    wait_until_serving,
)

TOKEN = "console-test-token-0123456789abcdef"


@dataclass
class ConsoleService:
    env: demo.DemoEnvironment
    process: Process
    #: The cost centers M3 knows, as the config had them before the test broke them.
    good: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env.config.service.admin_port}"


def finished_runs(env: demo.DemoEnvironment) -> int:
    if not env.config.store.path.exists():
        return 0
    with closing(sqlite3.connect(env.config.store.path)) as conn:
        try:
            row = conn.execute("SELECT COUNT(*) FROM runs WHERE status != 'running'").fetchone()
        except sqlite3.OperationalError:  # no schema yet
            return 0
    return int(row[0])


@asynccontextmanager
async def running_service(
    env: demo.DemoEnvironment, log_path: Path, good: dict[str, str]
) -> AsyncIterator[ConsoleService]:
    """`ml-connector run` with an admin token on ``env``, after its first cycle."""
    open_vault(env.config).set("admin-token", "bearer", {"token": TOKEN})
    with env.config_path.open("a") as config:
        config.write('admin_token_credential = "admin-token"\n')
    before = finished_runs(env)
    # The service's log goes to a file: a pipe nobody reads would fill and stall it.
    with log_path.open("wb") as log:
        process = await anyio.open_process(
            [sys.executable, "-m", "connector", "run", "--config", str(env.config_path)],
            env=dict(os.environ),
            stdout=log,
            stderr=log,
        )
        try:
            await wait_until_serving(env)
            with anyio.fail_after(60):
                while finished_runs(env) <= before:
                    await anyio.sleep(0.1)
            yield ConsoleService(env, process, good)
        finally:
            process.send_signal(signal.SIGTERM)
            with anyio.fail_after(30):
                await process.wait()
            await process.aclose()


@pytest.fixture
async def contractor(tmp_path: Path) -> AsyncIterator[demo.DemoEnvironment]:
    """The tiny seeded contractor of the command tests (no service yet)."""
    env = await tiny_contractor(tmp_path / "state")
    yield env
    await env.stop()


@pytest.fixture
async def service(
    contractor: demo.DemoEnvironment, tmp_path: Path
) -> AsyncIterator[ConsoleService]:
    """The service after its first cycle, in which M3 refused every AP document: the
    cost centers it was given do not exist there."""
    good = await break_cost_centers(contractor)
    async with running_service(contractor, tmp_path / "service.log", good) as service:
        yield service


ACUMATICA_FLOW = "servicetitan-acumatica"
ACUMATICA_COUNTS = {
    "servicetitan": {
        "business_units": 2, "vendors": 3, "materials": 3, "equipment": 1, "services": 2,
        "customers": 3, "jobs": 4, "invoices": 4, "payments": 2, "purchase_orders": 2,
        "received_purchase_orders": 2, "adjustments": 0,
    },
    "acumatica": {"vendors": 2, "customers": 2},
}


@pytest.fixture
async def acumatica_service(tmp_path: Path) -> AsyncIterator[ConsoleService]:
    """The service of a small servicetitan-acumatica pairing after its first cycle."""
    env = await demo.start(tmp_path / "state", counts=ACUMATICA_COUNTS, flows=[ACUMATICA_FLOW])
    try:
        text = env.config_path.read_text().replace(
            'schedule = "every 5m"', 'schedule = "every 1h"\nwebhook = false'
        )
        env.config_path.write_text(text + f"[service]\nadmin_port = {admin_port_free()}\n")
        async with running_service(env, tmp_path / "service.log", {}) as service:
            yield service
    finally:
        await env.stop()
