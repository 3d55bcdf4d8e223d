"""Flow servicetitan-infor end to end, against both simulators over loopback."""

from __future__ import annotations

import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web

from connector import demo
from connector.app import App
from connector.store import RecordKey, State, Unit
from connector.systems.servicetitan.webhooks import SignatureVerifier, webhook_handler

FLOW = "servicetitan-infor"
SMALL = {
    "servicetitan": {
        "vendors": 12,
        "materials": 10,
        "equipment": 6,
        "services": 4,
        "customers": 20,
        "jobs": 30,
        "invoices": 30,
        "payments": 5,
        "purchase_orders": 16,
        "received_purchase_orders": 10,
    },
    "infor": {"suppliers": 8, "items": 10, "purchase_orders": 3},
}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[demo.DemoEnvironment]:
    """A small seeded contractor: both simulators, vault, config and mappings."""
    environment = await demo.start(tmp_path / "state", counts=SMALL, flows=[FLOW])
    yield environment
    await environment.stop()


@pytest.fixture
async def app(env: demo.DemoEnvironment) -> AsyncIterator[App]:
    """The connector opened on the demo config."""
    opened = await App.open(env.config)
    yield opened
    await opened.aclose()


async def state(env: demo.DemoEnvironment, system: str) -> Any:
    return await demo.admin(env.simulators[system], "GET", "state")


def batches_by_cori(m3: Any) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for batch in m3["entities"]["invoice_batches"]:
        if batch["kind"] == "invoice" and batch["CORI"]:
            found.setdefault(batch["CORI"], []).append(batch)
    return found


async def test_every_document_lands_once_with_supplier_amount_date_and_cost_center(
    env: demo.DemoEnvironment, app: App
) -> None:
    """Each AP bill and invoice is one validated M3 batch on the right supplier and cost
    center, with the source's amount and date; a second cycle writes nothing."""
    runner = await app.runner(FLOW)
    first = await runner.cycle()
    assert first.ok, first.error
    st, m3 = await state(env, "servicetitan"), await state(env, "infor")
    batches = batches_by_cori(m3)
    bills, invoices = st["entities"]["ap_bills"], st["entities"]["invoices"]
    assert len(batches) == len(bills) + len(invoices)
    assert all(len(found) == 1 and found[0]["status"] == "validated" for found in batches.values())
    centers = app.config.mappings["business_unit_cost_center"]
    for bill in bills:
        [batch] = batches[f"st:bill:{bill['id']}"]
        link = await app.store.ledger_entry(
            RecordKey(FLOW, "vendors_to_m3", str(bill["vendor"]["id"]))
        )
        assert link is not None and batch["SUNO"] == link.target_id
        assert Decimal(batch["CUAM"]) == Decimal(bill["billAmount"])
        assert batch["IVDT"] == bill["billDate"][:10].replace("-", "")
        assert {line["AIT2"] for line in batch["lines"]} == {
            centers[str(bill["businessUnit"]["id"])]
        }
    for invoice in invoices:
        [batch] = batches[f"st:invoice:{invoice['id']}"]
        assert batch["SUNO"] == demo.CLEARING_SUPPLIER
        assert Decimal(batch["CUAM"]) == Decimal(invoice["total"])
    second = await runner.cycle(full=True)
    assert second.total("created") + second.total("updated") == 0
    assert len((await state(env, "infor"))["entities"]["invoice_batches"]) == len(
        m3["entities"]["invoice_batches"]
    )


async def test_vendors_and_items_align_both_ways_without_duplicates(
    env: demo.DemoEnvironment, app: App
) -> None:
    """After a cycle every vendor has one supplier and every supplier one vendor; likewise
    items and pricebook codes; nothing is created twice on either side."""
    await (await app.runner(FLOW)).cycle()
    st, m3 = await state(env, "servicetitan"), await state(env, "infor")
    supplier_names = Counter(s["SUNO"] for s in m3["entities"]["suppliers"] if s["CONO"] == "100")
    assert max(supplier_names.values()) == 1
    stamped = Counter(
        d["value"]
        for v in st["entities"]["vendors"]
        for d in v.get("externalData") or []
        if d["key"] == "m3.suno"
    )
    assert stamped and max(stamped.values()) == 1
    codes = Counter(
        m["code"].upper() for kind in ("materials", "equipment") for m in st["entities"][kind]
    )
    assert max(codes.values()) == 1
    item_numbers = {i["ITNO"] for i in m3["entities"]["items"] if i["CONO"] == "100"}
    assert set(codes) <= item_numbers
    assert m3["entities"]["master_data_duplicates"] == []


async def test_the_clearing_supplier_is_not_exported_as_a_vendor(
    env: demo.DemoEnvironment, app: App
) -> None:
    """M3's clearing supplier (invoice_supplier) never becomes a ServiceTitan vendor."""
    report = await (await app.runner(FLOW)).cycle(streams=["suppliers_to_st"])
    assert report.ok, report.error
    vendors = (await state(env, "servicetitan"))["entities"]["vendors"]
    stamped = {
        d["value"] for v in vendors for d in v.get("externalData") or [] if d["key"] == "m3.suno"
    }
    assert stamped and demo.CLEARING_SUPPLIER not in stamped
    assert not any(v["name"] == "ServiceTitan job invoices" for v in vendors)
    entry = await app.store.ledger_entry(
        RecordKey(FLOW, "suppliers_to_st", demo.CLEARING_SUPPLIER)
    )
    assert entry is None


async def test_missing_cost_center_waits_in_review_then_resumes(
    env: demo.DemoEnvironment, app: App
) -> None:
    """A business unit without a cost center sends its documents to review naming the unit;
    adding the mapping and resolving lets exactly those documents land."""
    unit, center = next(iter(app.config.mappings["business_unit_cost_center"].items()))
    await app.store.commit(
        Unit().raw(
            "DELETE FROM mappings WHERE kind = ? AND source_key = ?",
            ("business_unit_cost_center", unit),
        )
    )
    runner = await app.runner(FLOW)
    report = await runner.cycle()
    waiting = await app.store.review_items(flow=FLOW)
    assert report.total("review") == len(waiting) > 0
    assert all(
        item.mapping_key == unit and f"business unit {unit}" in item.reason for item in waiting
    )
    await app.store.set_mappings("business_unit_cost_center", {unit: center})
    resumed = await runner.resume_review()
    assert resumed.total("created") == len(waiting)
    assert await app.store.review_items(flow=FLOW) == []
    assert all(len(b) == 1 for b in batches_by_cori(await state(env, "infor")).values())


async def test_bad_source_data_becomes_dead_letters_and_the_run_goes_on(
    env: demo.DemoEnvironment, app: App
) -> None:
    """A negative quantity, a bill without vendor and an unparseable date each become a dead
    letter naming the problem; every other document still lands."""
    sim: Any = env.simulators["servicetitan"]
    invoices = sorted(sim.store.table("invoices").all(), key=lambda r: r["id"])
    bills = sorted(sim.store.table("ap_bills").all(), key=lambda r: r["id"])
    invoices[0]["items"][0]["quantity"] = "-2.0000000000000000000"
    invoices[1]["invoiceDate"] = "31/12/2026"
    bills[0]["vendor"] = None
    report = await (await app.runner(FLOW)).cycle()
    letters = {dl.key.source_id: dl for dl in await app.store.dead_letters(flow=FLOW)}
    assert "quantity" in letters[str(invoices[0]["id"])].reason
    assert "date" in letters[str(invoices[1]["id"])].reason
    assert "no vendor" in letters[str(bills[0]["id"])].reason
    assert report.total("failed") == 3
    assert report.total("created") >= len(invoices) + len(bills) - 3


async def test_replay_after_the_cause_is_fixed_lands_exactly_once(
    env: demo.DemoEnvironment, app: App
) -> None:
    """A bill refused by M3 (blocked supplier) is dead-lettered; after unblocking, replay
    posts it once, and a second replay posts nothing."""
    runner = await app.runner(FLOW)
    await runner.cycle(streams=["vendors_to_m3"])
    sim: Any = env.simulators["servicetitan"]
    bill = sorted(sim.store.table("ap_bills").all(), key=lambda r: r["id"])[0]
    link = await app.store.ledger_entry(RecordKey(FLOW, "vendors_to_m3", str(bill["vendor"]["id"])))
    assert link is not None and link.target_id
    m3 = (await app.supervisor("infor")).connection.client
    await m3.mi.call("CRS620MI", "UpdSupplier", {"SUNO": link.target_id, "STAT": "90"}, write=True)
    await runner.cycle(streams=["ap_bills_to_m3"])
    [letter] = [
        dl for dl in await app.store.dead_letters(flow=FLOW) if dl.key.source_id == str(bill["id"])
    ]
    assert "SUNO" in letter.reason or link.target_id in letter.reason
    await m3.mi.call("CRS620MI", "UpdSupplier", {"SUNO": link.target_id, "STAT": "20"}, write=True)
    assert (await runner.replay()).total("created") >= 1
    assert (await runner.replay()).total("created") == 0
    assert len(batches_by_cori(await state(env, "infor"))[f"st:bill:{bill['id']}"]) == 1


async def test_webhook_and_poll_of_the_same_invoice_make_one_batch(
    env: demo.DemoEnvironment, app: App
) -> None:
    """An invoice delivered by webhook (three times) and seen again by the poll is posted once."""
    runner = await app.runner(FLOW)
    await runner.cycle(streams=["vendors_to_m3", "materials_to_m3", "equipment_to_m3"])
    secret = app.vault.get("servicetitan-webhook").secret("secret")
    verifier = SignatureVerifier([secret], header="X-ServiceTitan-Signature")
    receiver = web.Application()
    receiver.router.add_post("/hook", webhook_handler(app.store, FLOW, verifier))
    runner_web = web.AppRunner(receiver)
    await runner_web.setup()
    site = web.TCPSite(runner_web, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    st: Any = env.simulators["servicetitan"]
    await demo.admin(
        st,
        "POST",
        "webhooks",
        {"event": "invoice", "url": f"http://127.0.0.1:{port}/hook", "secret": secret},
    )
    await demo.admin(st, "POST", "faults", {"duplicate_delivery_rate": 1.0})
    created = await demo.admin(st, "POST", "generate", {"entity": "invoices", "count": 1})
    with anyio.fail_after(10):
        while len(await app.store.pending_inbox(FLOW)) < 1:
            await anyio.sleep(0.05)
    await anyio.sleep(0.3)  # let the duplicate delivery arrive too
    assert len(await app.store.pending_inbox(FLOW)) == 1
    async with anyio.create_task_group() as tg:
        tg.start_soon(runner.drain_inbox)
        tg.start_soon(runner.cycle)
    await runner.cycle(full=True)
    await runner_web.cleanup()
    new_ids = [str(i) for i in created.get("ids", [])] or [
        str(max(r["id"] for r in st.store.table("invoices").all()))
    ]
    batches = batches_by_cori(await state(env, "infor"))
    assert all(len(batches[f"st:invoice:{i}"]) == 1 for i in new_ids)
    assert await app.store.pending_inbox(FLOW) == []


async def test_crash_between_write_and_commit_is_verified_not_repeated(
    env: demo.DemoEnvironment,
) -> None:
    """A sync killed while its validated batch's reply is in the air leaves the record
    in flight; the next sync finds the batch in M3 and posts nothing twice."""
    base = [
        sys.executable,
        "-m",
        "connector",
        "--config",
        str(env.config_path),
        "sync",
        "--flow",
        FLOW,
    ]
    prep = await anyio.run_process([*base, "--stream", "vendors_to_m3"], check=False)
    assert prep.returncode == 0, prep.stderr.decode()
    m3 = env.simulators["infor"]
    hang = {"fault": "timeout_after_commit", "match": "write", "path_contains": "ValidByBatchNo"}
    await demo.admin(m3, "POST", "faults", {"hang_s": 60, "script": [hang]})
    crashed = await anyio.open_process([*base, "--stream", "ap_bills_to_m3"])
    try:
        with anyio.fail_after(60):
            while not any(
                b["status"] == "validated"
                for b in (await state(env, "infor"))["entities"]["invoice_batches"]
            ):
                await anyio.sleep(0.05)
    finally:
        crashed.send_signal(signal.SIGKILL)
        await crashed.wait()
        await crashed.aclose()
    await demo.admin(m3, "POST", "faults", {"hang_s": 5, "script": []})
    app = await App.open(env.config)
    try:
        in_flight = await app.store.ledger_by_state(
            FLOW, [State.IN_FLIGHT], stream="ap_bills_to_m3"
        )
        assert in_flight  # the killed process had records between write and commit
        report = await (await app.runner(FLOW)).cycle(streams=["ap_bills_to_m3"])
        assert report.ok, report.error
        for entry in in_flight:
            steps = [e.step for e in await app.store.audit_history(FLOW, entry.key.source_id)]
            assert "verified" in steps
    finally:
        await app.aclose()
    batches = batches_by_cori(await state(env, "infor"))
    assert all(len(found) == 1 for found in batches.values())
    assert len(batches) == len((await state(env, "servicetitan"))["entities"]["ap_bills"])


def test_a_misspelt_option_is_named() -> None:
    """An unknown option key stops the flow with the key and the valid options named."""
    from connector.config import FlowConfig
    from connector.errors import ConfigurationError
    from connector.flows.servicetitan_infor import parse_options

    config = FlowConfig(source="servicetitan", target="infor", options={"curency": "EUR"})
    with pytest.raises(ConfigurationError, match="curency") as caught:
        parse_options(config, FLOW)
    assert "currency" in str(caught.value)
