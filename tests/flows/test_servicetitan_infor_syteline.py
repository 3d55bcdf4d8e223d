"""Flow servicetitan-infor against the simulated SyteLine site (Mongoose IDOs), end to end.

The demo's ServiceTitan and Infor simulators, with the Infor system switched to
``product = "syteline"``: the flow's line-agnostic targets over the real SyteLine client,
over loopback HTTP, looked at only through ``/_sandbox/state``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from connector import demo
from connector.app import App

FLOW = "servicetitan-infor"
COUNTS = {
    "servicetitan": {
        "vendors": 6,
        "materials": 6,
        "equipment": 3,
        "services": 2,
        "customers": 8,
        "jobs": 10,
        "invoices": 8,
        "payments": 2,
        "purchase_orders": 5,
        "received_purchase_orders": 3,
    },
    "infor": {"suppliers": 2, "items": 2, "purchase_orders": 1},
}
SITE_COUNTS = {"vendors": 4, "items": 5, "vouchers": 3, "purchase_orders": 2}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[demo.DemoEnvironment]:
    """The demo on SyteLine (``--infor-product syteline``): its setup on M3, then the site
    DALS seeded and the config pointed at it, cost centers as SyteLine unit codes."""
    environment = await demo.start(
        tmp_path / "state",
        counts={**COUNTS, "CSI": SITE_COUNTS},
        flows=[FLOW],
        infor_product="syteline",
    )
    yield environment
    await environment.stop()


@pytest.fixture
async def app(env: demo.DemoEnvironment) -> AsyncIterator[App]:
    """The connector on the demo's config."""
    config = env.config
    infor = config.systems["infor"]
    assert (infor.product, infor.company, infor.mongoose_config) == (
        "syteline",
        "DALS",
        "ACME_DALS",
    )
    assert all(len(c) <= 4 for c in config.mappings["business_unit_cost_center"].values())
    opened = await App.open(config)
    yield opened
    await opened.aclose()


async def site(env: demo.DemoEnvironment) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = (
        await demo.admin(env.simulators["infor"], "GET", "state")
    )["lines"]["CSI"]["idos"]
    return rows


def vouchers_by_invoice(rows: dict[str, list[dict[str, Any]]]) -> Counter[tuple[str, str]]:
    return Counter((v["VendNum"], v["InvNum"]) for v in rows["SLAptrxs"])


def distributions(rows: dict[str, list[dict[str, Any]]]) -> Counter[str]:
    return Counter(d["Voucher"] for d in rows["SLAptrxds"])


async def test_demo_cycle_lands_everything_once_and_the_second_writes_nothing(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Vendors, items, POs and AP invoices reach SyteLine once (padded keys, every voucher
    with its distributions, every PO with its lines); SyteLine's vendors and items reach
    ServiceTitan; a full second cycle writes nothing on either side."""
    runner = await app.runner(FLOW)
    first = await runner.cycle()
    assert first.ok, first.error
    for stream in (
        "vendors_to_infor",
        "materials_to_infor",
        "purchase_orders_to_infor",
        "invoices_to_infor",
        "suppliers_to_st",
    ):
        assert first.streams[stream].as_dict().get("created", 0) > 0, (stream, first.counts())
    assert first.total("in_doubt") == 0 and first.total("failed") == 0, first.counts()
    rows = await site(env)
    ours = [v["VendNum"] for v in rows["SLVendors"] if v["VendNum"].strip().startswith("ST")]
    assert ours and all(len(code) == 7 for code in ours)
    assert max(vouchers_by_invoice(rows).values()) == 1
    counts = distributions(rows)
    assert all(counts[v["Voucher"]] > 0 for v in rows["SLAptrxs"])
    po_lines = Counter(p["PoNum"] for p in rows["SLPoItems"])
    assert all(po_lines[p["PoNum"]] > 0 for p in rows["SLPos"])
    before = await demo.admin(env.simulators["infor"], "GET", "state")
    st_before = await demo.admin(env.simulators["servicetitan"], "GET", "state")
    second = await runner.cycle(full=True)
    assert second.ok, second.error
    assert second.total("created") + second.total("updated") == 0, second.counts()
    after = await demo.admin(env.simulators["infor"], "GET", "state")
    assert after["lines"]["CSI"]["idos"] == before["lines"]["CSI"]["idos"]
    st_after = await demo.admin(env.simulators["servicetitan"], "GET", "state")
    assert st_after.get("entities", st_after) == st_before.get("entities", st_before)


async def test_lost_voucher_reply_is_found_live_and_finished_not_duplicated(
    env: demo.DemoEnvironment, app: App
) -> None:
    """A voucher header saved but its reply lost (timeout after commit) is settled by the
    live look-up: the distributions go to that voucher, and no invoice is booked twice."""
    await demo.admin(
        env.simulators["infor"],
        "POST",
        "faults",
        {
            "hang_s": 0.05,
            "script": [
                {
                    "fault": "timeout_after_commit",
                    "match": "write",
                    "path_contains": "/ido/update/SLAptrxs",
                }
            ],
        },
    )
    runner = await app.runner(FLOW)
    report = await runner.cycle()
    assert report.ok, report.error
    faults = await demo.admin(env.simulators["infor"], "GET", "faults")
    assert faults["faults"]["script"] == []  # the lost reply did happen
    rows = await site(env)
    assert max(vouchers_by_invoice(rows).values()) == 1
    counts = distributions(rows)
    assert all(counts[v["Voucher"]] > 0 for v in rows["SLAptrxs"])
    again = await runner.cycle(full=True)
    assert again.ok, again.error
    assert again.total("created") + again.total("updated") == 0, again.counts()
    assert vouchers_by_invoice(await site(env)) == vouchers_by_invoice(rows)
