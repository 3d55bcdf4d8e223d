"""The service with its console, on a tiny contractor whose cost centers M3 refuses."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process

from connector import demo
from connector.vault import open_vault
from tests.commands.support import break_cost_centers, tiny_contractor, wait_until_serving

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
    with sqlite3.connect(env.config.store.path) as conn:
        return int(
            conn.execute("SELECT COUNT(*) FROM runs WHERE status != 'running'").fetchone()[0]
        )


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[ConsoleService]:
    """`ml-connector run` with an admin token, after its first (partly refused) cycle."""
    env = await tiny_contractor(tmp_path / "state")
    try:
        open_vault(env.config).set("admin-token", "bearer", {"token": TOKEN})
        with env.config_path.open("a") as config:
            config.write('admin_token_credential = "admin-token"\n')
        good = await break_cost_centers(env)
        # The service's log goes to a file: a pipe nobody reads would fill and stall it.
        log = (tmp_path / "service.log").open("wb")
        process = await anyio.open_process(
            [sys.executable, "-m", "connector", "run", "--config", str(env.config_path)],
            env=dict(os.environ),
            stdout=log,
            stderr=log,
        )
        try:
            await wait_until_serving(env)
            with anyio.fail_after(60):
                while finished_runs(env) < 1:
                    await anyio.sleep(0.1)
            yield ConsoleService(env, process, good)
        finally:
            process.send_signal(signal.SIGTERM)
            with anyio.fail_after(30):
                await process.wait()
            await process.aclose()
            log.close()
    finally:
        await env.stop()
