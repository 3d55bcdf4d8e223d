"""What the command tests share: a tiny contractor, the CLI as a subprocess."""

from __future__ import annotations

import re
import socket
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import anyio

from connector import demo
from connector.store import Store

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


async def tiny_contractor(state_dir: Path) -> demo.DemoEnvironment:
    """The servicetitan-infor flow on a tiny seeded contractor; the service's admin API on
    a free port, its schedule hourly, webhooks off."""
    environment = await demo.start(state_dir, counts=TINY, flows=[FLOW])
    admin_port = admin_port_free()
    text = environment.config_path.read_text().replace(
        'schedule = "every 5m"', 'schedule = "every 1h"\nwebhook = false'
    )
    environment.config_path.write_text(text + f"[service]\nadmin_port = {admin_port}\n")
    return environment


def admin_port_free() -> int:
    """A loopback port nothing listens on now, for the service's admin API."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def set_flow_keys(env: demo.DemoEnvironment, lines: str) -> None:
    """Add ``key = value`` lines to the flow's table of the config."""
    text = env.config_path.read_text()
    env.config_path.write_text(text.replace("webhook = false", f"webhook = false\n{lines}"))


async def cli(env: demo.DemoEnvironment, *args: str) -> tuple[int, str, str]:
    """``ml-connector --config … ARGS`` in its own process: exit code, stdout, stderr."""
    result = await anyio.run_process(
        [sys.executable, "-m", "connector", "--config", str(env.config_path), *args],
        check=False,
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


async def cli_at_once(
    env: demo.DemoEnvironment, *commands: tuple[str, ...]
) -> list[tuple[int, str, str]]:
    """Several independent commands, each as :func:`cli`, run at the same time (their
    start-ups overlap); their results in the order given."""
    results: list[tuple[int, str, str]] = [(-1, "", "")] * len(commands)

    async def one(index: int, args: tuple[str, ...]) -> None:
        results[index] = await cli(env, *args)

    async with anyio.create_task_group() as tg:
        for index, args in enumerate(commands):
            tg.start_soon(one, index, args)
    return results


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


KIND = "business_unit_cost_center"
BAD = "NOPE99"


async def break_cost_centers(env: demo.DemoEnvironment) -> dict[str, str]:
    """Move every cost center mapping from the config to the store, pointing at a cost
    center M3 does not have; returns the good values."""
    good = dict(env.config.mappings[KIND])
    text = env.config_path.read_text()
    text = re.sub(r'(\[mappings\.' + KIND + r'\]\n)(?:"[^"]+" = "[^"]*"\n)+', r"\1", text)
    env.config_path.write_text(text)
    store = await Store.open(env.config.store.path)
    try:
        await store.set_mappings(KIND, dict.fromkeys(good, BAD))
    finally:
        await store.close()
    return good


async def fix_cost_centers(env: demo.DemoEnvironment, good: dict[str, str]) -> None:
    store = await Store.open(env.config.store.path)
    try:
        await store.set_mappings(KIND, good)
    finally:
        await store.close()


def change_posted_amount(env: demo.DemoEnvironment, source_id: str, delta: str) -> str:
    """Change the amount M3 holds for one posted ServiceTitan invoice (as a person keying
    a correction straight into M3 would); returns the batch number."""
    m3: Any = env.simulators["infor"]
    batch = next(b for b in m3.db.batches.values() if b.head.get("CORI", "").endswith(source_id))
    batch.head["CUAM"] = str(Decimal(batch.head["CUAM"]) + Decimal(delta))
    return str(batch.inbn)
