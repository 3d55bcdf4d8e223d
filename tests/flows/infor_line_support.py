"""The servicetitan-infor flow against a simulated LN or FSM line: the demo on that line
(``--infor-product``), so the flow tests run on the same setup a user's demo does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from connector import demo
from connector.app import App

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
    """The connector on the demo's config for ``product`` (``demo --infor-product``: the line
    seeded with ``line_seed``, the config pointed at it, the clearing supplier created
    there through the line's client)."""
    segment = line_seed["line"]
    counts = {**COUNTS, segment: {k: v for k, v in line_seed.items() if k != "line"}}
    env = await demo.start(tmp_path / "state", counts=counts, flows=[FLOW], infor_product=product)
    try:
        app = await App.open(env.config)
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
