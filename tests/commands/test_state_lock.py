"""Commands beside a running service: writers are refused naming its pid, readers work."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import msgspec
import pytest

from connector import demo

FLOW = "servicetitan-infor"
TINY = {
    "servicetitan": {
        "vendors": 3,
        "materials": 2,
        "equipment": 2,
        "services": 1,
        "customers": 3,
        "jobs": 4,
        "invoices": 4,
        "payments": 1,
        "purchase_orders": 2,
        "received_purchase_orders": 1,
    },
    "infor": {"suppliers": 2, "items": 2, "purchase_orders": 1},
}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[demo.DemoEnvironment]:
    """A tiny seeded contractor; the service's admin API on a free port, webhooks off."""
    import socket

    environment = await demo.start(tmp_path / "state", counts=TINY, flows=[FLOW])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        admin_port = s.getsockname()[1]
    text = environment.config_path.read_text().replace(
        'schedule = "every 5m"', 'schedule = "every 1h"\nwebhook = false'
    )
    environment.config_path.write_text(text + f"[service]\nadmin_port = {admin_port}\n")
    yield environment
    await environment.stop()


async def wait_until_serving(env: demo.DemoEnvironment) -> None:
    """Until the admin API answers: the service has opened (and locked) the state."""
    url = f"http://127.0.0.1:{env.config.service.admin_port}/healthz"
    with anyio.fail_after(30):
        while True:
            try:
                async with aiohttp.ClientSession() as session, session.get(url):
                    return
            except aiohttp.ClientError:
                await anyio.sleep(0.05)


async def cli(env: demo.DemoEnvironment, *args: str) -> tuple[int, str, str]:
    result = await anyio.run_process(
        [sys.executable, "-m", "connector", "--config", str(env.config_path), *args],
        check=False,
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


async def test_sync_is_refused_while_the_service_runs_and_reads_still_work(
    env: demo.DemoEnvironment,
) -> None:
    """With `run` holding the state, `sync` exits 1 naming the service's pid; `runs`,
    `audit` and `review list` still answer; after SIGTERM the same `sync` runs."""
    db = env.config.store.path
    service = await anyio.open_process(
        [sys.executable, "-m", "connector", "run", "--config", str(env.config_path)],
        env={**os.environ},
    )
    try:
        await wait_until_serving(env)
        code, _, err = await cli(env, "sync", "--flow", FLOW, "--stream", "vendors_to_m3")
        assert code == 1, err
        assert f"another ml-connector (pid {service.pid}) holds the state {db}" in err
        assert "Traceback" not in err
        code, _, err = await cli(env, "replay", "--flow", FLOW, "--all-failed")
        assert code == 1 and f"pid {service.pid}" in err
        code, out, err = await cli(env, "runs", "--json")
        assert code == 0, err
        assert isinstance(msgspec.json.decode(out), list)
        code, _, err = await cli(env, "review", "list", "--json")
        assert code == 0, err
        code, _, err = await cli(env, "audit", FLOW, "1")
        assert "holds the state" not in err
    finally:
        service.send_signal(signal.SIGTERM)
        with anyio.fail_after(20):
            assert await service.wait() == 0
        await service.aclose()
    code, _, err = await cli(env, "sync", "--flow", FLOW, "--stream", "vendors_to_m3")
    assert code == 0, err
