"""The servicetitan-infor flow against a simulated LN or FSM line: the demo's seeded
ServiceTitan and Infor simulators, the line seeded beside M3, the config switched to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec

from connector import demo
from connector.app import App
from connector.config import Config
from connector.http.limiter import LimiterRegistry
from connector.systems import open_connection
from connector.systems.infor.lines import LineSupplier
from connector.vault import open_vault

FLOW = "servicetitan-infor"
COUNTS = {
    "servicetitan": {
        "vendors": 5,
        "materials": 5,
        "equipment": 3,
        "services": 2,
        "customers": 6,
        "jobs": 8,
        "invoices": 6,
        "payments": 2,
        "purchase_orders": 4,
        "received_purchase_orders": 2,
    },
    "infor": {"suppliers": 2, "items": 2, "purchase_orders": 1},
}
#: Streams that write to the line (the rest write to ServiceTitan).
LINE_WRITES = (
    "vendors_to_infor",
    "materials_to_infor",
    "equipment_to_infor",
    "purchase_orders_to_infor",
    "ap_bills_to_infor",
    "invoices_to_infor",
)


@asynccontextmanager
async def line_app(
    tmp_path: Path, product: str, line_seed: dict[str, Any]
) -> AsyncIterator[tuple[App, demo.DemoEnvironment]]:
    """The connector on the demo config with Infor switched to ``product``, whose simulated
    line (``line_seed["line"]``) is seeded first."""
    env = await demo.start(tmp_path / "state", counts=COUNTS, flows=[FLOW])
    try:
        await demo.admin(env.simulators["infor"], "POST", "seed", line_seed)
        config = env.config
        infor = msgspec.structs.replace(config.systems["infor"], product=product)
        config = msgspec.structs.replace(config, systems={**config.systems, "infor": infor})
        await create_clearing_supplier(config)
        app = await App.open(config)
        try:
            yield app, env
        finally:
            await app.aclose()
    finally:
        await env.stop()


async def line_state(env: demo.DemoEnvironment, segment: str) -> Any:
    """``/_sandbox/state`` of the simulated line (``LN`` or ``FSM``)."""
    state = await demo.admin(env.simulators["infor"], "GET", "state")
    return state["lines"][segment]


async def faults(env: demo.DemoEnvironment, **knobs: Any) -> None:
    """Set fault knobs on the Infor simulator (the gateway's, so they hit the line too)."""
    await demo.admin(env.simulators["infor"], "POST", "faults", knobs)


async def faults_left(env: demo.DemoEnvironment) -> list[Any]:
    """Scripted faults not yet served (a test's cut must have happened)."""
    body = await demo.admin(env.simulators["infor"], "GET", "faults")
    script: list[Any] = body["faults"]["script"]
    return script


async def create_clearing_supplier(config: Config) -> None:
    """What an implementer does once on the line, as the demo does on M3: the supplier job
    invoices are booked to."""
    connection = open_connection(
        config.systems["infor"], open_vault(config).get("infor"), LimiterRegistry()
    )
    try:
        line = connection.line
        assert line is not None
        if await line.get_supplier(demo.CLEARING_SUPPLIER) is None:
            supplier = LineSupplier(code=demo.CLEARING_SUPPLIER, name="ServiceTitan job invoices")
            await line.write_supplier(supplier, None)
    finally:
        await connection.aclose()
