"""Purchase orders both ways in flow servicetitan-infor, against both simulators over loopback."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from connector import demo
from connector.app import App
from connector.flows.servicetitan_infor.mapping import (
    M3_PO_MEMO,
    is_servicetitan_order,
    mirrored_puno,
    purchase_order_number,
)
from connector.store import RecordKey, State
from connector.systems.infor import M3Client

FLOW = "servicetitan-infor"
SMALL = {
    "servicetitan": {
        "vendors": 8,
        "materials": 8,
        "equipment": 4,
        "services": 2,
        "customers": 4,
        "jobs": 2,
        "invoices": 2,
        "payments": 0,
        "purchase_orders": 5,
        "received_purchase_orders": 2,
        "adjustments": 0,
    },
    "infor": {"suppliers": 6, "items": 8, "purchase_orders": 4},
}
#: Everything purchase orders refer to, and the two PO streams (AP documents left out).
PO_STREAMS = [
    "vendors_to_m3",
    "suppliers_to_st",
    "materials_to_m3",
    "equipment_to_m3",
    "items_to_st",
    "purchase_orders_to_m3",
    "purchase_orders_to_st",
]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[demo.DemoEnvironment]:
    """A small seeded contractor: both simulators, vault, config and mappings."""
    environment = await demo.start(tmp_path / "state", counts=SMALL)
    yield environment
    await environment.stop()


async def open_app(env: demo.DemoEnvironment) -> App:
    return await App.open(env.config)


@pytest.fixture
async def app(env: demo.DemoEnvironment) -> AsyncIterator[App]:
    """The connector opened on the demo config."""
    opened = await open_app(env)
    yield opened
    await opened.aclose()


async def entities(env: demo.DemoEnvironment, system: str, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await demo.admin(env.simulators[system], "GET", "state"))[
        "entities"
    ][name]
    return found


async def m3_orders(env: demo.DemoEnvironment) -> dict[str, dict[str, Any]]:
    """M3 purchase orders of the flow's company, by PUNO."""
    orders = await entities(env, "infor", "purchase_orders")
    return {o["PUNO"]: o for o in orders if o["CONO"] == "100"}


async def target_of(app: App, stream: str, source_id: object) -> str:
    entry = await app.store.ledger_entry(RecordKey(FLOW, stream, str(source_id)))
    assert entry is not None and entry.state == State.DONE and entry.target_id, entry
    return entry.target_id


def st_native(orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ServiceTitan POs entered in ServiceTitan (not copies of M3 orders)."""
    return [po for po in orders if mirrored_puno(po.get("summary")) is None]


def test_order_numbers_fit_m3_and_are_recognised_on_the_way_back() -> None:
    """PUNOs made from ServiceTitan ids fit A10 and are told apart from M3's own numbers."""
    for po_id in (7, 12_345_678, 123_456_789, 98_765_432_109):
        puno = purchase_order_number(po_id)
        assert len(puno) <= 10 and is_servicetitan_order(puno), puno
    assert not any(is_servicetitan_order(p) for p in ("1000001", "4500012345", "SUP00001"))
    assert mirrored_puno("M3 PO 1000042 (replenishment)") == "1000042"
    assert mirrored_puno("Stock replenishment - Main Warehouse") is None


async def test_every_servicetitan_po_lands_once_in_m3_with_supplier_lines_and_prices(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Each ServiceTitan PO is one M3 order ST<id> on its vendor's supplier, with one line
    per item at the source's quantity, price and item number; a canceled PO is not sent."""
    st_sim: Any = env.simulators["servicetitan"]
    canceled = sorted(st_sim.store.table("purchase_orders").all(), key=lambda r: r["id"])[0]
    canceled["status"] = "Canceled"
    report = await (await app.runner(FLOW)).cycle(streams=PO_STREAMS)
    assert report.ok, report.error
    assert report.total("failed") == report.total("review") == 0
    orders = await m3_orders(env)
    sources = await entities(env, "servicetitan", "purchase_orders")
    pricebook = {
        sku["id"]: sku["code"].upper()
        for kind in ("materials", "equipment")
        for sku in await entities(env, "servicetitan", kind)
    }
    assert purchase_order_number(canceled["id"]) not in orders
    sent = [po for po in st_native(sources) if po["id"] != canceled["id"]]
    assert {purchase_order_number(po["id"]) for po in sent} == {
        p for p in orders if is_servicetitan_order(p)
    }
    for po in sent:
        order = orders[purchase_order_number(po["id"])]
        assert order["SUNO"] == await target_of(app, "vendors_to_m3", po["vendorId"])
        assert order["DWDT"] == po["requiredOn"][:10].replace("-", "")
        assert [
            (line["ITNO"], Decimal(line["ORQA"]), Decimal(line["PUPR"])) for line in order["lines"]
        ] == [
            (pricebook[item["skuId"]], Decimal(str(item["quantity"])), Decimal(str(item["cost"])))
            for item in po["items"]
        ]


async def test_every_m3_po_lands_once_in_servicetitan_with_vendor_and_items(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Each M3 order is one ServiceTitan PO (memo ``M3 PO <PUNO>``) on the linked vendor,
    with the linked pricebook items at M3's quantities and prices."""
    seeded = {p: o for p, o in (await m3_orders(env)).items() if not is_servicetitan_order(p)}
    assert seeded
    report = await (await app.runner(FLOW)).cycle(streams=PO_STREAMS)
    assert report.ok, report.error
    copies: dict[str, list[dict[str, Any]]] = {}
    for po in await entities(env, "servicetitan", "purchase_orders"):
        puno = mirrored_puno(po.get("summary"))
        if puno is not None:
            copies.setdefault(puno, []).append(po)
    assert set(copies) == set(seeded)
    for puno, order in seeded.items():
        [copy] = copies[puno]
        assert copy["summary"].startswith(M3_PO_MEMO)
        assert copy["status"] == "Pending"
        assert copy["vendorId"] == int(await target_of(app, "suppliers_to_st", order["SUNO"]))
        expected = [
            (
                int(await target_of(app, "items_to_st", line["ITNO"])),
                Decimal(line["ORQA"]),
                Decimal(line["PUPR"]),
            )
            for line in order["lines"]
        ]
        assert [
            (item["skuId"], Decimal(str(item["quantity"])), Decimal(str(item["cost"])))
            for item in copy["items"]
        ] == expected


async def test_a_second_cycle_writes_nothing_in_either_direction(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Copies made in the first cycle are recognised in the next ones (incremental and full):
    nothing is created or updated, and no order comes back as a new one (no ping-pong)."""
    runner = await app.runner(FLOW)
    first = await runner.cycle(streams=PO_STREAMS)
    assert first.ok, first.error
    assert first.streams["purchase_orders_to_m3"].outcomes["created"] > 0
    assert first.streams["purchase_orders_to_st"].outcomes["created"] > 0
    m3_before = await m3_orders(env)
    st_before = await entities(env, "servicetitan", "purchase_orders")
    for full in (False, True):
        again = await runner.cycle(streams=PO_STREAMS, full=full)
        assert again.ok, again.error
        assert again.total("created") + again.total("updated") == 0, again.streams
        assert again.total("failed") == 0
    assert await m3_orders(env) == m3_before
    st_after = await entities(env, "servicetitan", "purchase_orders")
    assert len(st_after) == len(st_before)
    memos = Counter(mirrored_puno(po.get("summary")) for po in st_after)
    assert all(n == 1 for puno, n in memos.items() if puno is not None)
    assert not any(is_servicetitan_order(p) for p in memos if p is not None)
    # The ServiceTitan copy of an M3 order is linked to it, never sent back as ST<id>.
    for po in st_after:
        puno = mirrored_puno(po.get("summary"))
        if puno is not None:
            assert purchase_order_number(po["id"]) not in m3_before
            assert await target_of(app, "purchase_orders_to_m3", po["id"]) == puno


async def test_a_vendor_not_yet_in_m3_is_created_on_demand(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Run alone, purchase_orders_to_m3 creates each PO's supplier and items on the way and
    the order refers to the supplier the vendor link records."""
    report = await (await app.runner(FLOW)).cycle(streams=["purchase_orders_to_m3"])
    assert report.ok, report.error
    assert report.streams["purchase_orders_to_m3"].outcomes["created"] > 0
    suppliers = {s["SUNO"] for s in await entities(env, "infor", "suppliers")}
    orders = await m3_orders(env)
    for po in st_native(await entities(env, "servicetitan", "purchase_orders")):
        suno = await target_of(app, "vendors_to_m3", po["vendorId"])
        assert suno in suppliers
        assert orders[purchase_order_number(po["id"])]["SUNO"] == suno


async def test_search_head_scan_reads_every_order_once_and_only_changed_ones(
    env: demo.DemoEnvironment, app: App
) -> None:
    """The SearchHead key-restart scan, two orders a page, yields every order once in PUNO
    order; with a date it yields just the orders changed on or after it."""
    seeded: M3Client = (await app.supervisor("infor")).connection.client
    client = M3Client(seeded.mi, page_size=2)
    orders = await m3_orders(env)
    assert len(orders) > 2
    assert [h.PUNO async for h in client.purchase_order_heads()] == sorted(orders)
    touched = sorted(orders)[1]
    await client.mi.call("PPS200MI", "UpdHead", {"PUNO": touched, "YRE1": "x"}, write=True)
    today = (await m3_orders(env))[touched]["LMDT"]
    assert max(o["LMDT"] for o in orders.values()) < today
    assert [h.PUNO async for h in client.purchase_order_heads(changed_since=today)] == [touched]


@pytest.mark.parametrize("lost", ["head", "first line"])
async def test_a_lost_reply_leaves_one_complete_order(env: demo.DemoEnvironment, lost: str) -> None:
    """PPS200MI/AddHead (or AddLine) commits but its reply is lost: the PO waits in doubt,
    and the next cycle finds what landed, adds only the rest and makes no second order."""
    st_sim: Any = env.simulators["servicetitan"]
    source = next(
        po
        for po in sorted(st_sim.store.table("purchase_orders").all(), key=lambda r: r["id"])
        if len(po["items"]) >= 2
    )
    puno = purchase_order_number(source["id"])
    # Query parameters go out in the order the client builds them: PUNO, then SUNO on a
    # head, PNLI on a line; so each string matches one request of this PO only.
    where = f"PUNO={puno}&SUNO=" if lost == "head" else f"PUNO={puno}&PNLI=10"
    config = env.config_path.read_text()
    # Every call alone (coalesce_ms = 0): a head or line riding in another worker's bulk
    # request would not carry the query string the fault is matched on.
    env.config_path.write_text(
        config.replace(
            'division = "AAA"\n', 'division = "AAA"\ntimeout_s = 2\ncoalesce_ms = 0\n'
        )
    )
    hang = {"fault": "timeout_after_commit", "match": "write", "path_contains": where}
    await demo.admin(env.simulators["infor"], "POST", "faults", {"hang_s": 4, "script": [hang]})
    app = await open_app(env)
    try:
        runner = await app.runner(FLOW)
        first = await runner.cycle(streams=["purchase_orders_to_m3"])
        assert first.streams["purchase_orders_to_m3"].outcomes["in_doubt"] == 1
        [doubt] = await app.store.ledger_by_state(
            FLOW, [State.IN_DOUBT], stream="purchase_orders_to_m3"
        )
        assert doubt.key.source_id == str(source["id"])
        landed = [line["PNLI"] for line in (await m3_orders(env))[puno]["lines"]]
        assert landed == ([] if lost == "head" else ["10"])
        second = await runner.cycle(streams=["purchase_orders_to_m3"])
        assert second.ok, second.error
        assert second.total("failed") == 0
        assert second.streams["purchase_orders_to_m3"].outcomes["created"] == 1
        assert await target_of(app, "purchase_orders_to_m3", source["id"]) == puno
    finally:
        await app.aclose()
    orders = await m3_orders(env)
    sources = st_native(await entities(env, "servicetitan", "purchase_orders"))
    assert len([p for p in orders if is_servicetitan_order(p)]) == len(sources)
    numbers = [line["PNLI"] for line in orders[puno]["lines"]]
    assert numbers == [str(10 * n) for n in range(1, len(source["items"]) + 1)]


async def test_a_bill_received_on_a_copy_of_an_m3_order_is_not_posted_again(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Receiving the ServiceTitan copy of an M3 order makes a bill that M3 AP never gets:
    M3 invoices its own orders, so posting it would book the purchase twice."""
    runner = await app.runner(FLOW)
    await runner.cycle(streams=PO_STREAMS)
    copies = [
        po
        for po in await entities(env, "servicetitan", "purchase_orders")
        if mirrored_puno(po.get("summary")) is not None
    ]
    assert copies
    copy = copies[0]
    st = (await app.supervisor("servicetitan")).connection.client
    await st.http.request(
        "POST",
        f"{st.api_url}/inventory/v2/tenant/{st.tenant}/receipts",
        json=msgspec.json.encode(
            {
                "purchaseOrderId": copy["id"],
                "dateReceived": "2026-11-20T00:00:00Z",
                "tax": 0,
                "shipping": 0,
                "items": [
                    {"skuId": i["skuId"], "quantity": i["quantity"], "cost": i["cost"]}
                    for i in copy["items"]
                ],
            }
        ),
        idempotent=False,
    )
    [bill] = [
        b
        for b in await entities(env, "servicetitan", "ap_bills")
        if b["purchaseOrderId"] == copy["id"]
    ]
    report = await runner.cycle(streams=["ap_bills_to_m3"])
    assert report.ok, report.error
    batches = await entities(env, "infor", "invoice_batches")
    assert not [b for b in batches if b["CORI"] == f"st:bill:{bill['id']}"]
    steps = [e.step for e in await app.store.audit_history(FLOW, str(bill["id"]))]
    assert "not_posted" in steps
    others = [b for b in await entities(env, "servicetitan", "ap_bills") if b["id"] != bill["id"]]
    assert len([b for b in batches if b["CORI"].startswith("st:bill:")]) == len(others)
